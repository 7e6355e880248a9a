"""Scoring models and rescoring: drafts, publishing, dry runs, the resumable job, and
scoring one lead as its activity arrives."""

from __future__ import annotations

import enum
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from audit.events import Actor, Event, Outcome, Target, record
from core.bulk import marks
from core.errors import FieldError, NotFound, ValidationFailed
from leads.models import Lead
from leads.scoring.definition import (
    DEFAULT_DEFINITION,
    DefinitionError,
    ScoringDefinition,
    parse_definition,
)
from leads.scoring.engine import Band, ScoreResult
from leads.scoring.models import ScoreHistory, ScoringModel, ScoringRun
from leads.scoring.rescoring import BatchOutcome, score_batch

BATCH = 2000


class ModelStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"


class RunStatus(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"


class Trigger(enum.StrEnum):
    ACTIVITY = "activity"
    CAPTURE = "capture"
    LEAD_CHANGED = "lead_changed"
    MODEL_PUBLISHED = "model_published"
    DECAY = "decay"


def _definition(raw: Any, field: str = "definition") -> ScoringDefinition:
    try:
        return parse_definition(raw)
    except DefinitionError as error:
        raise ValidationFailed(
            [FieldError(f"{field}.{error.field}", "invalid", f"{field}.{error}")]
        ) from None


async def published_model() -> tuple[int, ScoringDefinition]:
    """The newest published version and its rules; the default becomes version 1 the first
    time anything asks (several processes may race: one insert wins)."""
    row = await ScoringModel.filter(status=ModelStatus.PUBLISHED.value).order_by("-version").first()
    if row is None:
        try:
            async with in_transaction("default"):
                row = await ScoringModel.create(
                    version=1,
                    status=ModelStatus.PUBLISHED.value,
                    definition=DEFAULT_DEFINITION,
                    note="default model",
                    created_at=datetime.now(UTC),
                    published_at=datetime.now(UTC),
                )
        except IntegrityError:
            row = await ScoringModel.get(version=1)
    return row.version, definition_of(row)


_PUBLISHED: dict[tuple[int, datetime | None], ScoringDefinition] = {}


def definition_of(row: ScoringModel) -> ScoringDefinition:
    """A published version's rules, parsed once per process (a published version never
    changes): every recorded activity asks for them."""
    key = (row.version, row.published_at)
    found = _PUBLISHED.get(key)
    if found is None:
        found = _PUBLISHED[key] = parse_definition(row.definition)
    return found


async def versions() -> list[ScoringModel]:
    await published_model()
    return await ScoringModel.all().order_by("-version")


async def get_version(version: int) -> ScoringModel:
    row = await ScoringModel.get_or_none(version=version)
    if row is None:
        raise NotFound("scoring model")
    return row


def _audit(actor: Actor, action: str, version: int, **details: str | int | None) -> Event:
    return Event(
        action=action,
        outcome=Outcome.SUCCESS,
        actor=actor,
        target=Target("scoring_model", str(version)),
        details=details,
    )


async def create_draft(
    actor: Actor, user_id: uuid.UUID | None, definition: Any, note: str | None
) -> ScoringModel:
    _definition(definition)
    await published_model()
    async with in_transaction("default"):
        last = await ScoringModel.all().order_by("-version").select_for_update().first()
        row = await ScoringModel.create(
            version=(last.version if last else 0) + 1,
            status=ModelStatus.DRAFT.value,
            definition=parse_definition(definition).to_json(),
            note=(note or "")[:500] or None,
            created_at=datetime.now(UTC),
            created_by_id=user_id,
        )
        await record(_audit(actor, "scoring.model.drafted", row.version))
    return row


async def update_draft(
    actor: Actor, version: int, definition: Any, note: str | None
) -> ScoringModel:
    parsed = _definition(definition)
    async with in_transaction("default"):
        row = await ScoringModel.filter(version=version).select_for_update().first()
        if row is None:
            raise NotFound("scoring model")
        if row.status != ModelStatus.DRAFT.value:
            raise ValidationFailed(
                [FieldError("version", "not_a_draft", "only a draft can be changed")]
            )
        row.definition = parsed.to_json()
        row.note = (note or "")[:500] or None
        await row.save(update_fields=["definition", "note"])
        await record(_audit(actor, "scoring.model.updated", version))
    return row


async def publish(actor: Actor, user_id: uuid.UUID | None, version: int) -> ScoringRun:
    """Publish a draft (the previous published version is retired, still viewable) and
    start a rescoring run of every lead under it."""
    await published_model()
    now = datetime.now(UTC)
    async with in_transaction("default"):
        row = await ScoringModel.filter(version=version).select_for_update().first()
        if row is None:
            raise NotFound("scoring model")
        if row.status != ModelStatus.DRAFT.value:
            raise ValidationFailed(
                [FieldError("version", "not_a_draft", "only a draft can be published")]
            )
        await ScoringModel.filter(status=ModelStatus.PUBLISHED.value).update(
            status=ModelStatus.RETIRED.value
        )
        row.status, row.published_at, row.published_by_id = (
            ModelStatus.PUBLISHED.value,
            now,
            user_id,
        )
        await row.save(update_fields=["status", "published_at", "published_by_id"])
        run = await ScoringRun.create(
            model_version=version,
            trigger=Trigger.MODEL_PUBLISHED.value,
            status=RunStatus.PENDING.value,
            total=await Lead.all().count(),
            created_at=now,
        )
        await record(_audit(actor, "scoring.model.published", version, run=str(run.id)))
    return run


@dataclass(frozen=True, slots=True)
class DryRunReport:
    version: int
    against_version: int
    evaluated: int
    not_scored: int
    gain_mql: int
    lose_mql: int
    gain_sql: int
    lose_sql: int
    changed: int


def _at_least(result: ScoreResult | None, band: Band) -> bool:
    if result is None:
        return False
    return result.band is Band.SQL or (band is Band.MQL and result.band is Band.MQL)


async def dry_run(version: int, now: datetime | None = None) -> DryRunReport:
    """Evaluate ``version`` over every lead, without writing, against the published model:
    how many leads would newly reach (or drop below) MQL and SQL."""
    when = now or datetime.now(UTC)
    draft = parse_definition((await get_version(version)).definition)
    current_version, current = await published_model()
    counts = dict.fromkeys(("gain_mql", "lose_mql", "gain_sql", "lose_sql", "changed"), 0)
    evaluated = not_scored = 0
    after: str | None = None
    while True:
        outcome, new = await score_batch(draft, version, when, "dry_run", after=after, write=False)
        if outcome.last_id is None:
            break
        _, old = await score_batch(
            current, current_version, when, "dry_run", after=after, write=False
        )
        after = outcome.last_id
        for lead_id, result in new.items():
            evaluated += 1
            before = old.get(lead_id)
            if result is None:
                not_scored += 1
                continue
            for band, gain, lose in (
                (Band.MQL, "gain_mql", "lose_mql"),
                (Band.SQL, "gain_sql", "lose_sql"),
            ):
                was, now_is = _at_least(before, band), _at_least(result, band)
                counts[gain] += int(now_is and not was)
                counts[lose] += int(was and not now_is)
            counts["changed"] += int(before is None or before.total != result.total)
    return DryRunReport(version, current_version, evaluated, not_scored, **counts)


async def rescore_lead(lead_id: uuid.UUID, trigger: Trigger, now: datetime) -> BatchOutcome:
    """Score one lead at once (inside the caller's transaction), e.g. as an activity is
    recorded; a crossed threshold moves it forward in the same transaction."""
    version, definition = await published_model()
    outcome, _ = await score_batch(definition, version, now, trigger.value, lead_ids=[lead_id])
    return outcome


HISTORY_DEPTH = 50


async def history_for(
    lead_ids: Sequence[uuid.UUID], depth: int = HISTORY_DEPTH
) -> dict[uuid.UUID, list[ScoreHistory]]:
    """The newest ``depth`` history entries of each lead, newest first, in one statement
    (a window per lead, so a long history is never read in full)."""
    if not lead_ids:
        return {}
    db = connections.get("default")
    placeholders = marks(db.capabilities.dialect, len(lead_ids) + 1)
    id_field = ScoreHistory._meta.fields_map["lead_id"]
    window = "ROW_NUMBER() OVER (PARTITION BY lead_id ORDER BY id DESC) AS place"
    within = ", ".join(placeholders[:-1])
    ranked = f"(SELECT h.*, {window} FROM score_history h WHERE lead_id IN ({within}))"  # noqa: S608
    columns = 'id, lead_id, model_version, score, fit_score, engagement_score, breakdown, "trigger"'
    newest = f"WHERE place <= {placeholders[-1]} ORDER BY id DESC"
    sql = f"SELECT {columns}, computed_at FROM {ranked} r {newest}"  # noqa: S608
    rows = await db.execute_query_dict(
        sql, [*(id_field.to_db_value(i, ScoreHistory) for i in lead_ids), depth]
    )
    found: dict[uuid.UUID, list[ScoreHistory]] = defaultdict(list)
    for row in rows:
        entry = ScoreHistory._init_from_db(**row)
        found[entry.lead_id].append(entry)
    return found
