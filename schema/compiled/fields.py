"""How the compiled path reads each field it covers: the columns a lead field needs, and the
value it gives from a row and the request's batch of loaded relations.

Every value here is the value the field's resolver returns on the general executor, built
with the same constructors; the equivalence tests hold the two together.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import strawberry
from strawberry.scalars import JSON
from tortoise.models import Model

from compliance.access.decide import Subject
from compliance.consent.ledger import open_evidence
from core.cursors import Page
from leads import models
from schema.leads.consent import ConsentRecord, ConsentStatus, ScoreStatus
from schema.leads.related import (
    Bant,
    Campaign,
    FollowUpTask,
    StaffMember,
    StageChange,
    Team,
    Utm,
)
from schema.leads.types import speed_to_lead
from schema.pagination import PageInfo
from schema.scoring.types import ScoreContribution, ScoreHistoryEntry


class Batch(Protocol):
    """What the getters read from a loaded batch (:class:`schema.compiled.load.Batch`)."""

    owners: dict[Any, Any]
    teams: dict[Any, Any]
    campaigns: dict[Any, Any]
    stage_history: dict[uuid.UUID, list[Any]]
    tasks: dict[uuid.UUID, list[Any]]
    consent_states: dict[uuid.UUID, dict[str, Any]]
    consent_history: dict[uuid.UUID, list[Any]]
    score_history: dict[uuid.UUID, list[Any]]
    profiled: set[uuid.UUID]
    total: int | None

    def subject(self, row: Any) -> Subject: ...

    def activity_page(self, plan: Any, lead_id: uuid.UUID) -> Page[Any]: ...

    def key_of(self, lead_id: uuid.UUID) -> bytes | None: ...

    def open(
        self, model: type[Model], field: str, row_id: object, blob: Any, subject: uuid.UUID
    ) -> str | None: ...

    def guarded(self, open_: Callable[[], str | None]) -> str | None: ...

    def once(self, make: Callable[[Any], Any], row: Any) -> Any: ...


FieldPlan = Any
"""A :class:`schema.compiled.plan.FieldPlan` (the getters pass it on, never read it)."""

ROOT_FIELDS = frozenset({"leads", "lead"})

PERSONAL = ("first_name", "last_name", "email", "phone", "job_title", "notes")
UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
BANT = ("budget", "authority", "need", "timeline")

Value = Callable[[Any, Batch, Any], Any]


class Needs:
    """Relations a lead field reads from the batch (each loaded once per page)."""

    OWNERS = "owners"
    TEAMS = "teams"
    CAMPAIGNS = "campaigns"
    ACTIVITIES = "activities"
    STAGE_HISTORY = "stage_history"
    TASKS = "tasks"
    CONSENT_STATES = "consent_states"
    CONSENT_HISTORY = "consent_history"
    PROFILING = "profiling"
    SCORE_HISTORY = "score_history"
    KEYS = "keys"


@dataclass(frozen=True, slots=True)
class LeadField:
    columns: tuple[str, ...]
    value: Value
    needs: tuple[str, ...] = ()


def _column(name: str) -> LeadField:
    return LeadField((name,), lambda row, batch, plan: getattr(row, name))


def _id_of(name: str) -> LeadField:
    def value(row: Any, batch: Batch, plan: FieldPlan) -> strawberry.ID | None:
        found = getattr(row, name)
        return strawberry.ID(str(found)) if found is not None else None

    return LeadField((name,), value)


def _personal(name: str) -> LeadField:
    def value(row: Any, batch: Batch, plan: FieldPlan) -> str | None:
        return batch.open(models.Lead, name, row.id, getattr(row, name), row.id)

    return LeadField((name,), value, (Needs.KEYS,))


def _scored(name: str) -> LeadField:
    def value(row: Any, batch: Batch, plan: FieldPlan) -> Any:
        return getattr(row, name) if row.id in batch.profiled else None

    return LeadField((name,), value, (Needs.PROFILING,))


def _score_status(row: Any, batch: Batch, plan: FieldPlan) -> ScoreStatus:
    return ScoreStatus.SCORED if row.id in batch.profiled else ScoreStatus.NOT_SCORED_NO_BASIS


def _breakdown(row: Any, batch: Batch, plan: FieldPlan) -> list[ScoreContribution] | None:
    if row.id not in batch.profiled:
        return None
    return ScoreContribution.all_of(row.score_breakdown)


def _score_history(row: Any, batch: Batch, plan: FieldPlan) -> list[ScoreHistoryEntry] | None:
    if row.id not in batch.profiled:
        return None
    return [ScoreHistoryEntry.of(r) for r in batch.score_history.get(row.id, [])]


def _consents(row: Any, batch: Batch, plan: FieldPlan) -> list[ConsentStatus]:
    states = batch.consent_states.get(row.id, {})
    now = datetime.now(UTC)
    return [ConsentStatus.of(states[name], now) for name in sorted(states)]


def _consent_history(row: Any, batch: Batch, plan: FieldPlan) -> list[ConsentRecord]:
    subject = batch.subject(row)
    return [ConsentRecord.of(r, subject) for r in batch.consent_history.get(row.id, [])]


def _owner(row: Any, batch: Batch, plan: FieldPlan) -> StaffMember | None:
    found = batch.owners.get(row.owner_id) if row.owner_id is not None else None
    return batch.once(StaffMember.of, found) if found else None


def _team(row: Any, batch: Batch, plan: FieldPlan) -> Team | None:
    found = batch.teams.get(row.team_id) if row.team_id is not None else None
    return batch.once(Team.of, found) if found else None


def _campaign(row: Any, batch: Batch, plan: FieldPlan) -> Campaign | None:
    found = batch.campaigns.get(row.campaign_id) if row.campaign_id is not None else None
    return batch.once(Campaign.of, found) if found else None


class _Edge:
    """An activity edge as the compiled path shows it: the cursor and the activity row
    itself (``Activity``'s fields are read from the row, as ``Activity.of`` copies them)."""

    __slots__ = ("cursor", "node")

    def __init__(self, cursor: str, node: Any) -> None:
        self.cursor = cursor
        self.node = node


class _Connection:
    __slots__ = ("edges", "page_info")

    def __init__(self, edges: list[_Edge], page_info: PageInfo) -> None:
        self.edges = edges
        self.page_info = page_info


def _activities(row: Any, batch: Batch, plan: FieldPlan) -> _Connection:
    page = batch.activity_page(plan, row.id)
    return _Connection(
        [_Edge(c, a) for a, c in zip(page.items, page.cursors, strict=True)],
        PageInfo(
            has_next_page=page.has_next_page, end_cursor=page.cursors[-1] if page.cursors else None
        ),
    )


def _tasks(row: Any, batch: Batch, plan: FieldPlan) -> list[FollowUpTask]:
    return [FollowUpTask.of(r) for r in batch.tasks.get(row.id, [])]


def _stage_history(row: Any, batch: Batch, plan: FieldPlan) -> list[StageChange]:
    subject = batch.subject(row)
    return [StageChange.of(r, subject) for r in batch.stage_history.get(row.id, [])]


LEAD_FIELDS: dict[str, LeadField] = {
    "seniority": _column("seniority"),
    "country": _column("country"),
    "region": _column("region"),
    "companySize": _column("company_size"),
    "industry": _column("industry"),
    "source": _column("source"),
    "channel": _column("channel"),
    "utm": LeadField(UTM, lambda row, batch, plan: Utm.of(row)),
    "bant": LeadField(BANT, lambda row, batch, plan: Bant.of(row)),
    "stage": _column("stage"),
    "status": _column("status"),
    "stageEnteredAt": _column("stage_entered_at"),
    "createdAt": _column("created_at"),
    "updatedAt": _column("updated_at"),
    "lastEngagedAt": _column("last_engaged_at"),
    "dealValue": _column("deal_value"),
    "wonAmount": _column("won_amount"),
    "sqlAt": _column("sql_at"),
    "firstTouchAt": _column("first_touch_at"),
    "assignedAt": _column("assigned_at"),
    "assignmentReason": _column("assignment_reason"),
    "ownerId": _id_of("owner_id"),
    "teamId": _id_of("team_id"),
    "campaignId": _id_of("campaign_id"),
    "id": LeadField(("id",), lambda row, batch, plan: str(row.id)),
    "firstName": _personal("first_name"),
    "lastName": _personal("last_name"),
    "email": _personal("email"),
    "phone": _personal("phone"),
    "jobTitle": _personal("job_title"),
    "notes": _personal("notes"),
    "companyName": _column("company_name"),
    "companyDomain": _column("company_domain"),
    "score": _scored("score"),
    "fitScore": _scored("fit_score"),
    "engagementScore": _scored("engagement_score"),
    "scoredAt": _scored("scored_at"),
    "scoreStatus": LeadField((), _score_status, (Needs.PROFILING,)),
    "scoreBreakdown": LeadField(("score_breakdown",), _breakdown, (Needs.PROFILING,)),
    "scoreHistory": LeadField((), _score_history, (Needs.PROFILING, Needs.SCORE_HISTORY)),
    "consents": LeadField((), _consents, (Needs.CONSENT_STATES,)),
    "consentHistory": LeadField((), _consent_history, (Needs.CONSENT_HISTORY,)),
    "owner": LeadField(("owner_id",), _owner, (Needs.OWNERS,)),
    "team": LeadField(("team_id",), _team, (Needs.TEAMS,)),
    "campaign": LeadField(("campaign_id",), _campaign, (Needs.CAMPAIGNS,)),
    "activities": LeadField((), _activities, (Needs.ACTIVITIES,)),
    "speedToLeadMinutes": LeadField(
        ("sql_at", "first_touch_at"), lambda row, batch, plan: speed_to_lead(row)
    ),
    "tasks": LeadField((), _tasks, (Needs.TASKS,)),
    "stageHistory": LeadField((), _stage_history, (Needs.STAGE_HISTORY,)),
}
"""Every ``Lead`` field the compiled path covers (``possibleDuplicates`` is not: a query
that selects it runs on the general executor)."""


def _stage_reason(source: StageChange, batch: Batch, plan: FieldPlan) -> str | None:
    row = source._row
    return batch.open(models.StageChange, "reason", row.id, row.reason, row.lead_id)


def _evidence(field: str) -> Value:
    def value(source: ConsentRecord, batch: Batch, plan: FieldPlan) -> str | None:
        row = source._row
        if getattr(row, field) is None:
            return None
        return batch.guarded(lambda: open_evidence(row, field, batch.key_of(row.lead_id)))

    return value


PROTECTED_VALUES: dict[tuple[str, str], Value] = {
    ("Activity", "details"): lambda source, batch, plan: JSON(source.details),
    ("StageChange", "reason"): _stage_reason,
    ("ConsentRecord", "clientNetwork"): _evidence("client_network"),
    ("ConsentRecord", "note"): _evidence("note"),
}
"""Governed fields of related types, and how their value is read once allowed."""

SPECIAL_VALUES: dict[tuple[str, str], Value] = {
    ("LeadConnection", "totalCount"): lambda source, batch, plan: batch.total,
}
"""Fields whose resolver awaits something the batch has already loaded."""

DECRYPTING: dict[tuple[str, str], str] = {
    **{("Lead", f): spec.columns[0] for f, spec in LEAD_FIELDS.items() if Needs.KEYS in spec.needs},
    ("StageChange", "reason"): "reason",
    ("ConsentRecord", "clientNetwork"): "client_network",
    ("ConsentRecord", "note"): "note",
}
"""The fields that decrypt, and their columns: their subjects' keys are loaded when any of
them is allowed."""
