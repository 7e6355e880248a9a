"""GraphQL object types of the lead domain, built from loaded rows."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import strawberry
from graphql import GraphQLError
from strawberry.scalars import JSON

from compliance.access.decide import Subject
from compliance.consent.purposes import PROFILING
from core.cursors import Page
from crypto.envelope import CiphertextError
from crypto.fields import personal_fields_of
from crypto.vault import current_vault
from identity.models import StaffUser
from leads import models
from leads.followup import is_breached
from leads.models import subject_of
from leads.repository import ActivityRow
from schema.access.extension import protected
from schema.consent.types import ConsentRecord, ConsentStatus, ScoreStatus
from schema.context import Context
from schema.enums import (
    ActivityType,
    Authority,
    Budget,
    Channel,
    CompanySize,
    Need,
    Seniority,
    Source,
    StaffRole,
    Stage,
    Status,
    Timeline,
)
from schema.errors import bad_input
from schema.loaders import SCORE_HISTORY_DEPTH
from schema.scoring.types import ScoreContribution, ScoreHistoryEntry

strawberry.enum(models.TaskKind, name="TaskKind")

MAX_NESTED_ACTIVITIES = 50


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Team:
    id: strawberry.ID
    name: str

    @classmethod
    def of(cls, row: models.Team) -> Team:
        return cls(id=strawberry.ID(str(row.id)), name=row.name)


@strawberry.type(description="A member of staff, as shown next to the leads they own.")
class StaffMember:
    id: strawberry.ID
    display_name: str
    role: StaffRole
    team_id: strawberry.ID | None

    @classmethod
    def of(cls, row: StaffUser) -> StaffMember:
        team = strawberry.ID(str(row.team_id)) if row.team_id is not None else None
        return cls(
            id=strawberry.ID(str(row.id)),
            display_name=row.display_name,
            role=row.role,
            team_id=team,
        )


@strawberry.type
class Campaign:
    id: strawberry.ID
    name: str
    channel: Channel
    cost: Decimal
    currency: str
    starts_on: date
    ends_on: date | None

    @classmethod
    def of(cls, row: models.Campaign) -> Campaign:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            channel=row.channel,
            cost=row.cost,
            currency=row.currency,
            starts_on=row.starts_on,
            ends_on=row.ends_on,
        )


@strawberry.type(description="An engagement event of a lead.")
class Activity:
    id: strawberry.ID
    type: ActivityType
    occurred_at: datetime
    campaign_id: strawberry.ID | None
    _details: strawberry.Private[dict[str, object]]
    _subject: strawberry.Private[Subject]

    @protected(description="Non-personal metadata (page path, content id, duration).")
    async def details(self) -> JSON | None:
        return JSON(self._details)

    def access_subject(self) -> Subject:
        return self._subject

    @classmethod
    def of(cls, row: models.Activity | ActivityRow, subject: Subject) -> Activity:
        campaign = strawberry.ID(str(row.campaign_id)) if row.campaign_id is not None else None
        return cls(
            id=strawberry.ID(str(row.id)),
            type=row.type,
            occurred_at=row.occurred_at,
            campaign_id=campaign,
            _details=row.details,
            _subject=subject,
        )


@strawberry.type
class ActivityEdge:
    cursor: str
    node: Activity


@strawberry.type
class ActivityConnection:
    edges: list[ActivityEdge]
    page_info: PageInfo

    @classmethod
    def of(cls, page: Page[ActivityRow], subject: Subject) -> ActivityConnection:
        edges = [
            ActivityEdge(cursor=c, node=Activity.of(a, subject))
            for a, c in zip(page.items, page.cursors, strict=True)
        ]
        end = page.cursors[-1] if page.cursors else None
        return cls(
            edges=edges, page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=end)
        )


async def reveal(
    info: strawberry.Info[Context],
    row: models.Lead | models.StageChange,
    field: str,
) -> str | None:
    """Decrypt one personal field of one row, only when the field is asked for. The
    subject is the one the field declares; its key comes from a per-request batch, so a
    page costs one key-store query."""
    blob = getattr(row, field)
    if blob is None:
        return None
    subject_field = personal_fields_of(type(row))[field].subject_field or "id"
    key = await info.context.loaders.subject_keys.load(getattr(row, subject_field))
    try:
        return current_vault().open_value(type(row), field, row.id, blob, key)
    except CiphertextError as error:
        # A stored value that fails authentication was edited, moved or corrupted; the
        # message names the column, never a value.
        raise GraphQLError(str(error), extensions={"code": "DATA_INTEGRITY"}) from None


@strawberry.type
class StageChange:
    id: strawberry.ID
    from_stage: Stage | None
    to_stage: Stage
    changed_at: datetime
    changed_by_id: strawberry.ID | None
    _row: strawberry.Private[models.StageChange]
    _subject: strawberry.Private[Subject]

    @protected()
    async def reason(self, info: strawberry.Info[Context]) -> str | None:
        return await reveal(info, self._row, "reason")

    def access_subject(self) -> Subject:
        return self._subject

    @classmethod
    def of(cls, row: models.StageChange, subject: Subject) -> StageChange:
        by = strawberry.ID(str(row.changed_by_id)) if row.changed_by_id else None
        return cls(
            id=strawberry.ID(str(row.id)),
            from_stage=row.from_stage,
            to_stage=row.to_stage,
            changed_at=row.changed_at,
            changed_by_id=by,
            _row=row,
            _subject=subject,
        )


@strawberry.type
class Utm:
    source: str | None
    medium: str | None
    campaign: str | None
    term: str | None
    content: str | None


@strawberry.type(description="Budget, authority, need and timeline, as qualified so far.")
class Bant:
    budget: Budget
    authority: Authority
    need: Need
    timeline: Timeline


@strawberry.type(description="Follow-up work on a lead, due within its SLA or cadence step.")
class FollowUpTask:
    id: strawberry.ID
    lead_id: strawberry.ID
    kind: models.TaskKind
    step: int = strawberry.field(description="0: the first contact; 1…: cadence touches.")
    owner_id: strawberry.ID | None
    due_at: datetime
    completed_at: datetime | None
    completed_by_id: strawberry.ID | None
    created_at: datetime
    _row: strawberry.Private[models.Task]

    @strawberry.field(description="Done after its due time, or still open past it.")
    def breached(self) -> bool:
        return is_breached(self._row, datetime.now(UTC))

    @classmethod
    def of(cls, row: models.Task) -> FollowUpTask:
        def opt(value: object) -> strawberry.ID | None:
            return strawberry.ID(str(value)) if value is not None else None

        return cls(
            _row=row,
            id=strawberry.ID(str(row.id)),
            lead_id=strawberry.ID(str(row.lead_id)),
            kind=row.kind,
            step=row.step,
            owner_id=opt(row.owner_id),
            due_at=row.due_at,
            completed_at=row.completed_at,
            completed_by_id=opt(row.completed_by_id),
            created_at=row.created_at,
        )


@strawberry.type(description="A sales lead: a person, their company, and where they stand.")
class Lead:
    _id: strawberry.Private[str]
    seniority: Seniority
    country: str | None
    region: str | None
    company_size: CompanySize
    industry: str | None
    source: Source
    channel: Channel | None
    utm: Utm
    bant: Bant
    stage: Stage
    status: Status
    stage_entered_at: datetime
    created_at: datetime
    updated_at: datetime
    last_engaged_at: datetime | None
    deal_value: Decimal | None = strawberry.field(
        description="Expected value of the deal (account currency)."
    )
    won_amount: Decimal | None = strawberry.field(description="Amount won as a customer.")
    sql_at: datetime | None = strawberry.field(description="When it first became an SQL.")
    first_touch_at: datetime | None = strawberry.field(
        description="The first human touch after it became an SQL."
    )
    assigned_at: datetime | None
    assignment_reason: str | None = strawberry.field(
        description="How the owner was chosen (round robin, capacity, or by staff)."
    )
    owner_id: strawberry.ID | None
    team_id: strawberry.ID | None
    campaign_id: strawberry.ID | None
    _row: strawberry.Private[models.Lead]

    @protected(description="Pseudonymous (psn_…) for roles that see no personal data.")
    async def id(self) -> strawberry.ID:
        return strawberry.ID(self._id)

    @protected()
    async def first_name(self, info: strawberry.Info[Context]) -> str | None:
        return await reveal(info, self._row, "first_name")

    @protected()
    async def last_name(self, info: strawberry.Info[Context]) -> str | None:
        return await reveal(info, self._row, "last_name")

    @protected()
    async def email(self, info: strawberry.Info[Context]) -> str | None:
        return await reveal(info, self._row, "email")

    @protected()
    async def phone(self, info: strawberry.Info[Context]) -> str | None:
        return await reveal(info, self._row, "phone")

    @protected()
    async def job_title(self, info: strawberry.Info[Context]) -> str | None:
        return await reveal(info, self._row, "job_title")

    @protected()
    async def notes(self, info: strawberry.Info[Context]) -> str | None:
        return await reveal(info, self._row, "notes")

    @protected()
    async def company_name(self) -> str | None:
        return self._row.company_name

    @protected()
    async def company_domain(self) -> str | None:
        return self._row.company_domain

    def access_subject(self) -> Subject:
        return subject_of(self._row)

    async def _may_use_scores(self, info: strawberry.Info[Context]) -> bool:
        states = await info.context.loaders.consent_states.load(self._row.id)
        state = states.get(PROFILING)
        return state is not None and state.allows(datetime.now(UTC))

    @strawberry.field(description="Null when the lead has no profiling basis (see scoreStatus).")
    async def score(self, info: strawberry.Info[Context]) -> int | None:
        return self._row.score if await self._may_use_scores(info) else None

    @strawberry.field(description="Null when the lead has no profiling basis.")
    async def fit_score(self, info: strawberry.Info[Context]) -> int | None:
        return self._row.fit_score if await self._may_use_scores(info) else None

    @strawberry.field(description="Null when the lead has no profiling basis.")
    async def engagement_score(self, info: strawberry.Info[Context]) -> int | None:
        return self._row.engagement_score if await self._may_use_scores(info) else None

    @strawberry.field(description="Null when the lead has no profiling basis.")
    async def scored_at(self, info: strawberry.Info[Context]) -> datetime | None:
        return self._row.scored_at if await self._may_use_scores(info) else None

    @strawberry.field(description="Scores are used only for leads with a profiling basis.")
    async def score_status(self, info: strawberry.Info[Context]) -> ScoreStatus:
        if await self._may_use_scores(info):
            return ScoreStatus.SCORED
        return ScoreStatus.NOT_SCORED_NO_BASIS

    @strawberry.field(
        description="The rules behind the score and their points; they add up to the score. "
        "Null when the lead has no profiling basis."
    )
    async def score_breakdown(
        self, info: strawberry.Info[Context]
    ) -> list[ScoreContribution] | None:
        if not await self._may_use_scores(info):
            return None
        return ScoreContribution.all_of(self._row.score_breakdown)

    @strawberry.field(
        description=f"How the score changed, newest first (at most {SCORE_HISTORY_DEPTH}). "
        "Null when the lead has no profiling basis."
    )
    async def score_history(self, info: strawberry.Info[Context]) -> list[ScoreHistoryEntry] | None:
        if not await self._may_use_scores(info):
            return None
        rows = await info.context.loaders.score_history.load(self._row.id)
        return [ScoreHistoryEntry.of(row) for row in rows]

    @protected(description="Each purpose's current state (consent or other lawful basis).")
    async def consents(self, info: strawberry.Info[Context]) -> list[ConsentStatus] | None:
        states = await info.context.loaders.consent_states.load(self._row.id)
        now = datetime.now(UTC)
        return [ConsentStatus.of(states[name], now) for name in sorted(states)]

    @protected(description="Every consent event of this lead, oldest first.")
    async def consent_history(self, info: strawberry.Info[Context]) -> list[ConsentRecord] | None:
        rows = await info.context.loaders.consent_history.load(self._row.id)
        subject = self.access_subject()
        return [ConsentRecord.of(row, subject) for row in rows]

    @strawberry.field
    async def owner(self, info: strawberry.Info[Context]) -> StaffMember | None:
        if self.owner_id is None:
            return None
        row = await info.context.loaders.staff.load(uuid.UUID(self.owner_id))
        return StaffMember.of(row) if row else None

    @strawberry.field
    async def team(self, info: strawberry.Info[Context]) -> Team | None:
        if self.team_id is None:
            return None
        row = await info.context.loaders.teams.load(int(self.team_id))
        return Team.of(row) if row else None

    @strawberry.field
    async def campaign(self, info: strawberry.Info[Context]) -> Campaign | None:
        if self.campaign_id is None:
            return None
        row = await info.context.loaders.campaigns.load(int(self.campaign_id))
        return Campaign.of(row) if row else None

    @strawberry.field(description="Newest first.")
    async def activities(
        self, info: strawberry.Info[Context], first: int = 10, after: str | None = None
    ) -> ActivityConnection:
        if not 1 <= first <= MAX_NESTED_ACTIVITIES:
            raise bad_input(f"first must be between 1 and {MAX_NESTED_ACTIVITIES}", "first")
        page = await info.context.loaders.activity_pages.load((self._row.id, first, after))
        return ActivityConnection.of(page, self.access_subject())

    @strawberry.field(
        description="Minutes from becoming an SQL to the first human touch (speed-to-lead)."
    )
    def speed_to_lead_minutes(self) -> float | None:
        if self._row.sql_at is None or self._row.first_touch_at is None:
            return None
        return round((self._row.first_touch_at - self._row.sql_at).total_seconds() / 60, 1)

    @strawberry.field(description="Follow-up tasks: the first contact, then the cadence.")
    async def tasks(self, info: strawberry.Info[Context]) -> list[FollowUpTask]:
        rows = await info.context.loaders.tasks.load(self._row.id)
        return [FollowUpTask.of(row) for row in rows]

    @strawberry.field(description="Oldest first.")
    async def stage_history(self, info: strawberry.Info[Context]) -> list[StageChange]:
        rows = await info.context.loaders.stage_history.load(self._row.id)
        subject = self.access_subject()
        return [StageChange.of(r, subject) for r in rows]

    @classmethod
    def of(cls, row: models.Lead) -> Lead:
        def opt_id(value: object) -> strawberry.ID | None:
            return strawberry.ID(str(value)) if value is not None else None

        return cls(
            _id=str(row.id),
            _row=row,
            seniority=row.seniority,
            country=row.country,
            region=row.region,
            company_size=row.company_size,
            industry=row.industry,
            source=row.source,
            channel=row.channel,
            utm=Utm(
                source=row.utm_source,
                medium=row.utm_medium,
                campaign=row.utm_campaign,
                term=row.utm_term,
                content=row.utm_content,
            ),
            bant=Bant(
                budget=row.budget, authority=row.authority, need=row.need, timeline=row.timeline
            ),
            stage=row.stage,
            status=row.status,
            stage_entered_at=row.stage_entered_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
            last_engaged_at=row.last_engaged_at,
            deal_value=row.deal_value,
            won_amount=row.won_amount,
            sql_at=row.sql_at,
            first_touch_at=row.first_touch_at,
            assigned_at=row.assigned_at,
            assignment_reason=row.assignment_reason,
            owner_id=opt_id(row.owner_id),
            team_id=opt_id(row.team_id),
            campaign_id=opt_id(row.campaign_id),
        )


@strawberry.type
class LeadEdge:
    cursor: str
    node: Lead


@strawberry.type
class LeadConnection:
    edges: list[LeadEdge]
    page_info: PageInfo
    _count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="All leads matching the filter that you may see.")
    async def total_count(self) -> int:
        return await self._count()
