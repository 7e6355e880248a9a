"""GraphQL object types of what a lead links to: its team, staff, campaign, activities,
stage changes and follow-up tasks."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.scalars import JSON

from compliance.access.decide import Subject
from core.cursors import Page
from identity.models import StaffUser
from leads import models
from leads.followup import is_breached
from leads.repository import ActivityRow
from schema.access.extension import protected
from schema.context import Context
from schema.enums import (
    ActivityType,
    Authority,
    Budget,
    Channel,
    Need,
    StaffRole,
    Stage,
    Timeline,
)
from schema.leads.reveal import reveal
from schema.pagination import PageInfo

strawberry.enum(models.TaskKind, name="TaskKind")

MAX_NESTED_ACTIVITIES = 50


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

    @classmethod
    def of(cls, row: Any) -> Utm:
        return cls(
            source=row.utm_source,
            medium=row.utm_medium,
            campaign=row.utm_campaign,
            term=row.utm_term,
            content=row.utm_content,
        )


@strawberry.type(description="Budget, authority, need and timeline, as qualified so far.")
class Bant:
    budget: Budget
    authority: Authority
    need: Need
    timeline: Timeline

    @classmethod
    def of(cls, row: Any) -> Bant:
        return cls(budget=row.budget, authority=row.authority, need=row.need, timeline=row.timeline)


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
