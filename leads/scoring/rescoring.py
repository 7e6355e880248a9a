"""Scoring leads in batches: read facts and activities, evaluate, write what changed.

One pass over a batch costs a fixed number of statements whatever its size: the leads, their
activities, their profiling basis, one ``executemany`` of score updates, one of history rows,
and, for leads that crossed a threshold, their keys, stage changes and stage updates. The same
code scores one lead when an activity arrives, so every path agrees.

Leads without a profiling basis are not scored: their stored scores are cleared and their
breakdown is empty. A threshold crossed upwards moves a lead forward (lead → MQL → SQL) with a
stage change whose reason names the score, the threshold and the model version; scores never
move a lead backwards.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise import connections

from audit.events import Actor, Event, Outcome, record_many
from compliance.consent import state as consent_state
from compliance.consent.purposes import PROFILING
from compliance.events.emit import NewEvent, emit, lead_event
from compliance.events.types import EventType
from core import bulk
from core.bulk import insert_dicts
from core.ids import new_id
from crypto.vault import current_vault
from leads.enums import Stage, Status
from leads.events import stage_changed
from leads.followup import BecameSql, became_sql
from leads.lifecycle import status_after
from leads.models import Lead, StageChange
from leads.scoring.definition import ScoringDefinition
from leads.scoring.engine import Band, ScoreResult, evaluate_fast

FACT_COLUMNS = (
    "seniority",
    "company_size",
    "industry",
    "country",
    "region",
    "budget",
    "authority",
    "need",
    "timeline",
)
LEAD_COLUMNS = (
    "id",
    *FACT_COLUMNS,
    "stage",
    "status",
    "source",
    "owner_id",
    "score",
    "fit_score",
    "engagement_score",
    "score_model_version",
    "score_breakdown",
)
ADVANCES_FROM: dict[Band, frozenset[Stage]] = {
    Band.MQL: frozenset({Stage.SUBSCRIBER, Stage.LEAD}),
    Band.SQL: frozenset({Stage.SUBSCRIBER, Stage.LEAD, Stage.MQL}),
}
BAND_STAGE = {Band.MQL: Stage.MQL, Band.SQL: Stage.SQL}
HISTORY_COLUMNS = (
    "lead_id",
    "model_version",
    "score",
    "fit_score",
    "engagement_score",
    "breakdown",
    "trigger",
    "computed_at",
)


@dataclass(slots=True)
class BatchOutcome:
    seen: int = 0
    scored: int = 0
    changed: int = 0
    cleared: int = 0
    advanced: list[tuple[uuid.UUID, Stage, Stage]] = field(default_factory=list)
    last_id: str | None = None


SCORE_COLUMNS = (
    "score",
    "fit_score",
    "engagement_score",
    "scored_at",
    "score_model_version",
    "score_breakdown",
)
STAGE_COLUMNS = ("stage", "status", "stage_entered_at", "updated_at")


def _update_sql(dialect: str, columns: Sequence[str]) -> str:
    """``UPDATE lead SET … WHERE id``: fixed column names, values as placeholders."""
    marks = bulk.marks(dialect, len(columns) + 1)
    sets = ", ".join(f"{c} = {m}" for c, m in zip(columns, marks, strict=False))
    return f"UPDATE lead SET {sets} WHERE id = {marks[-1]}"  # noqa: S608


def _key(value: Any) -> str:
    return str(value)


def _when(value: Any) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else (value or [])


async def _lead_rows(
    after: str | None, limit: int, lead_ids: Sequence[uuid.UUID] | None
) -> list[dict[str, Any]]:
    db = connections.get("default")
    dialect = db.capabilities.dialect
    id_field = Lead._meta.fields_map["id"]
    columns = ", ".join(LEAD_COLUMNS)
    if lead_ids is not None:
        marks = ", ".join(bulk.marks(dialect, len(lead_ids)))
        return await db.execute_query_dict(
            f"SELECT {columns} FROM lead WHERE id IN ({marks})",  # noqa: S608 - fixed columns
            [id_field.to_db_value(i, Lead) for i in lead_ids],
        )
    mark = bulk.marks(dialect, 2)
    # The walk's position: on SQLite the row id (leads come off the disk in the order they
    # were written, and so do their activities), on PostgreSQL the lead id.
    position = "id" if dialect == "postgres" else "rowid"
    start: Any = None
    if after is not None:
        start = id_field.to_db_value(uuid.UUID(after), Lead) if position == "id" else int(after)
    where = f"WHERE {position} > {mark[0]} " if start is not None else ""
    limit_mark = mark[1] if start is not None else mark[0]
    return await db.execute_query_dict(
        f"SELECT {columns}, {position} AS walk_position FROM lead {where}"  # noqa: S608 - fixed
        f"ORDER BY {position} LIMIT {limit_mark}",
        [start, limit] if start is not None else [limit],
    )


async def _activities(
    ids: Sequence[Any], definition: ScoringDefinition
) -> dict[str, list[tuple[str, float]]]:
    """The activities of these leads that some rule of ``definition`` counts."""
    types = sorted(
        {
            a
            for rule in (*definition.engagement, *definition.negative_activities)
            for a in rule.activities
        }
    )
    found: dict[str, list[tuple[str, float]]] = defaultdict(list)
    if not types:
        return found
    db = connections.get("default")
    marks = bulk.marks(db.capabilities.dialect, len(ids) + len(types))
    rows = await db.execute_query(
        "SELECT lead_id, type, occurred_at FROM activity "  # noqa: S608 - placeholders only
        f"WHERE lead_id IN ({', '.join(marks[: len(ids)])}) "
        f"AND type IN ({', '.join(marks[len(ids) :])})",
        [*ids, *types],
    )
    for row in rows[1]:
        found[_key(row[0])].append((row[1], _when(row[2]).timestamp()))
    return found


async def score_batch(
    definition: ScoringDefinition,
    version: int,
    now: datetime,
    trigger: str,
    *,
    after: str | None = None,
    limit: int = 2000,
    lead_ids: Sequence[uuid.UUID] | None = None,
    write: bool = True,
) -> tuple[BatchOutcome, dict[str, ScoreResult | None]]:
    """Score the next ``limit`` leads after ``after`` (or exactly ``lead_ids``) inside the
    caller's transaction. ``write=False`` only evaluates (a dry run). Returns the outcome and
    each lead's result (None: not scored, no profiling basis)."""
    rows = await _lead_rows(after, limit, lead_ids)
    outcome = BatchOutcome(
        last_id=_key(rows[-1].get("walk_position", rows[-1]["id"])) if rows else None,
        seen=len(rows),
    )
    if not rows:
        return outcome, {}
    raw_ids = [row["id"] for row in rows]
    activities = await _activities(raw_ids, definition)
    allowed = await consent_state.consented_keys(raw_ids, PROFILING, now)
    at = now.timestamp()
    results: dict[str, ScoreResult | None] = {}
    updates: list[list[Any]] = []
    history: list[list[Any]] = []
    advances: list[tuple[dict[str, Any], ScoreResult]] = []
    crossings: list[NewEvent] = []
    fields = Lead._meta.fields_map
    breakdown_field, id_field, time_field = (
        fields["score_breakdown"],
        fields["id"],
        fields["scored_at"],
    )
    stamp = time_field.to_db_value(now, Lead)
    for row in rows:
        key = _key(row["id"])
        if key not in allowed:
            results[key] = None
            if (
                row["score"]
                or row["fit_score"]
                or row["engagement_score"]
                or row["score_model_version"]
            ):
                outcome.cleared += 1
                updates.append(
                    [0, 0, 0, None, None, breakdown_field.to_db_value([], Lead),
                     id_field.to_db_value(row["id"], Lead)]
                )  # fmt: skip
            continue
        result = evaluate_fast(definition, row, activities.get(key, ()), at)
        results[key] = result
        outcome.scored += 1
        breakdown = [c.to_json() for c in result.breakdown]
        if (
            row["score"] != result.total
            or row["fit_score"] != result.fit
            or row["engagement_score"] != result.engagement
            or row["score_model_version"] != version
            or _json(row["score_breakdown"]) != breakdown
        ):
            outcome.changed += 1
            encoded = json.dumps(breakdown)
            lead_key = id_field.to_db_value(row["id"], Lead)
            updates.append(
                [result.total, result.fit, result.engagement, stamp, version, encoded, lead_key]
            )
            history.append(
                [lead_key, version, result.total, result.fit, result.engagement, encoded,
                 trigger, stamp]
            )  # fmt: skip
        crossings += _crossed(row, result, definition, version)
        if result.band in ADVANCES_FROM and Stage(row["stage"]) in ADVANCES_FROM[result.band]:
            advances.append((row, result))
    if write:
        await _write(updates, history, advances, definition, version, now, outcome)
        await emit(crossings, now)
    else:
        outcome.advanced = [
            (uuid.UUID(_key(r["id"])), Stage(r["stage"]), BAND_STAGE[res.band])
            for r, res in advances
        ]
    return outcome, results


async def _write(
    updates: list[list[Any]],
    history: list[list[Any]],
    advances: list[tuple[dict[str, Any], ScoreResult]],
    definition: ScoringDefinition,
    version: int,
    now: datetime,
    outcome: BatchOutcome,
) -> None:
    db = connections.get("default")
    if updates:
        await db.execute_many(_update_sql(db.capabilities.dialect, SCORE_COLUMNS), updates)
    if history:
        names = ", ".join(f'"{c}"' for c in HISTORY_COLUMNS)
        marks = ", ".join(bulk.marks(db.capabilities.dialect, len(HISTORY_COLUMNS)))
        await db.execute_many(
            f"INSERT INTO score_history ({names}) VALUES ({marks})",  # noqa: S608 - fixed
            history,
        )
    if advances:
        await _advance(advances, definition, version, now, outcome)


def _crossed(
    row: dict[str, Any], result: ScoreResult, definition: ScoringDefinition, version: int
) -> list[NewEvent]:
    """A ``lead.score_threshold_crossed`` event for each threshold the score rose to."""
    before = row["score"] if row["score_model_version"] is not None else 0
    lead_id = uuid.UUID(_key(row["id"]))
    return [
        lead_event(
            EventType.LEAD_SCORE_THRESHOLD_CROSSED, lead_id, threshold=name, modelVersion=version
        )
        for name, threshold in (
            ("MQL", definition.mql_threshold),
            ("SQL", definition.sql_threshold),
        )
        if (before or 0) < threshold <= result.total
    ]


def _reason(result: ScoreResult, definition: ScoringDefinition, version: int) -> str:
    threshold = definition.sql_threshold if result.band is Band.SQL else definition.mql_threshold
    return (
        f"score {result.total} reached the {result.band.value.upper()} threshold {threshold} "
        f"(scoring model v{version})"
    )


async def _advance(
    advances: list[tuple[dict[str, Any], ScoreResult]],
    definition: ScoringDefinition,
    version: int,
    now: datetime,
    outcome: BatchOutcome,
) -> None:
    """Move leads that crossed a threshold forward, with a stage change explaining why."""
    vault = current_vault()
    ids = [uuid.UUID(_key(row["id"])) for row, _ in advances]
    keys = await vault.subject_keys(ids)
    changes: list[dict[str, Any]] = []
    moves: list[list[Any]] = []
    qualified: list[BecameSql] = []
    fields = Lead._meta.fields_map
    for (row, result), lead_id in zip(advances, ids, strict=True):
        key = keys.get(lead_id)
        if key is None:  # erased: nothing to explain to, nothing to move
            continue
        target = BAND_STAGE[result.band]
        change_id = new_id()
        reason = _reason(result, definition, version)
        sealed = vault.seal_values(StageChange, change_id, key, {"reason": reason})
        changes.append(
            {
                "id": change_id,
                "lead_id": lead_id,
                "from_stage": Stage(row["stage"]),
                "to_stage": target,
                "changed_at": now,
                "reason": sealed["reason"],
            }
        )
        status = status_after(target, Status(row["status"]))
        moves.append(
            [
                target.value,
                status.value,
                fields["stage_entered_at"].to_db_value(now, Lead),
                fields["updated_at"].to_db_value(now, Lead),
                fields["id"].to_db_value(lead_id, Lead),
            ]
        )
        outcome.advanced.append((lead_id, Stage(row["stage"]), target))
        if target is Stage.SQL:
            owner = uuid.UUID(_key(row["owner_id"])) if row["owner_id"] else None
            qualified.append(BecameSql(lead_id, row["source"], owner))
    if not changes:
        return
    await insert_dicts(StageChange, changes)
    db = connections.get("default")
    await db.execute_many(_update_sql(db.capabilities.dialect, STAGE_COLUMNS), moves)
    await became_sql(qualified, now)
    await emit(
        [stage_changed(c["lead_id"], c["from_stage"], c["to_stage"], "score") for c in changes], now
    )
    await record_many(
        [
            Event(
                action="lead.stage.advanced",
                outcome=Outcome.SUCCESS,
                actor=Actor.operator(),
                subject_ids=tuple(str(c["lead_id"]) for c in changes),
                fields=("stage", "reason"),
                details={"leads": len(changes), "model_version": version, "by": "score"},
            )
        ],
        now=now,
    )
