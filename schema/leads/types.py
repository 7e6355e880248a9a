"""GraphQL object types of the lead itself and its connection, built from loaded rows."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import strawberry

from compliance.access.decide import Subject
from compliance.consent.purposes import PROFILING
from core.cursors import InvalidCursor
from leads import duplicates, models
from leads.models import subject_of
from schema.access.extension import protected
from schema.context import Context
from schema.enums import (
    Channel,
    CompanySize,
    Seniority,
    Source,
    Stage,
    Status,
)
from schema.errors import bad_input
from schema.leads.consent import ConsentRecord, ConsentStatus, ScoreStatus
from schema.leads.duplicates import PossibleDuplicate
from schema.leads.related import (
    MAX_NESTED_ACTIVITIES,
    ActivityConnection,
    Bant,
    Campaign,
    FollowUpTask,
    StaffMember,
    StageChange,
    Team,
    Utm,
)
from schema.leads.reveal import reveal
from schema.loaders import SCORE_HISTORY_DEPTH
from schema.pagination import PageInfo
from schema.scoring.types import ScoreContribution, ScoreHistoryEntry


def speed_to_lead(row: Any) -> float | None:
    """Minutes from becoming an SQL to the first human touch, to a tenth."""
    if row.sql_at is None or row.first_touch_at is None:
        return None
    return round((row.first_touch_at - row.sql_at).total_seconds() / 60, 1)


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
        try:
            page = await info.context.loaders.activity_pages.load((self._row.id, first, after))
        except InvalidCursor as refused:
            raise bad_input(str(refused), "after") from None
        return ActivityConnection.of(page, self.access_subject())

    @strawberry.field(
        description="Minutes from becoming an SQL to the first human touch (speed-to-lead)."
    )
    def speed_to_lead_minutes(self) -> float | None:
        return speed_to_lead(self._row)

    @strawberry.field(
        description="Other leads with this lead's email, flagged for review; shown only to "
        "those who may read the existing lead's email in clear."
    )
    async def possible_duplicates(self, info: strawberry.Info[Context]) -> list[PossibleDuplicate]:
        flags = await duplicates.flags_for(info.context.principal, self._row)
        return [PossibleDuplicate.of(flag) for flag in flags]

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
            utm=Utm.of(row),
            bant=Bant.of(row),
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
