"""GraphQL inputs of the lead domain and their mapping to domain values."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.scalars import JSON

from core.cursors import SortDirection
from core.errors import FieldError, ValidationFailed
from leads.repository import LeadFilter as DomainLeadFilter
from leads.repository import LeadOrder as DomainLeadOrder
from leads.repository import LeadOrderField
from schema.enums import (
    ActivityType,
    Authority,
    Budget,
    Channel,
    CompanySize,
    LeadOrderFieldEnum,
    Need,
    Seniority,
    SortDirectionEnum,
    Source,
    Stage,
    Status,
    Timeline,
)
from schema.ids import parse_int_id, parse_uuid


@strawberry.input
class LeadFilter:
    stage: list[Stage] | None = None
    status: list[Status] | None = None
    source: list[Source] | None = None
    owner_id: strawberry.ID | None = None
    unassigned: bool | None = None
    team_id: strawberry.ID | None = None
    campaign_id: strawberry.ID | None = None
    created_from: datetime | None = strawberry.field(default=None, description="Inclusive.")
    created_to: datetime | None = strawberry.field(default=None, description="Exclusive.")
    reengageable: bool | None = strawberry.field(
        default=None,
        description="True: the re-engagement list, cold leads that consent to email marketing.",
    )

    def to_domain(self) -> DomainLeadFilter:
        return DomainLeadFilter(
            stages=tuple(self.stage or ()),
            statuses=tuple(self.status or ()),
            sources=tuple(self.source or ()),
            owner_id=parse_uuid(self.owner_id, "owner_id") if self.owner_id else None,
            unassigned=self.unassigned,
            team_id=parse_int_id(self.team_id, "team_id") if self.team_id else None,
            campaign_id=parse_int_id(self.campaign_id, "campaign_id") if self.campaign_id else None,
            created_from=self.created_from,
            created_to=self.created_to,
            reengageable=self.reengageable,
        )


@strawberry.input
class LeadOrder:
    field: LeadOrderFieldEnum = LeadOrderField.CREATED_AT
    direction: SortDirectionEnum = SortDirection.DESC

    def to_domain(self) -> DomainLeadOrder:
        return DomainLeadOrder(field=self.field, direction=self.direction)


@strawberry.input
class UtmInput:
    source: str | None = strawberry.UNSET
    medium: str | None = strawberry.UNSET
    campaign: str | None = strawberry.UNSET
    term: str | None = strawberry.UNSET
    content: str | None = strawberry.UNSET


@strawberry.input(description="Fields left out are left as they are (on update) or empty.")
class LeadInput:
    first_name: str | None = strawberry.UNSET
    last_name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    job_title: str | None = strawberry.UNSET
    notes: str | None = strawberry.UNSET
    seniority: Seniority | None = strawberry.UNSET
    country: str | None = strawberry.UNSET
    region: str | None = strawberry.UNSET
    company_name: str | None = strawberry.UNSET
    company_domain: str | None = strawberry.UNSET
    company_size: CompanySize | None = strawberry.UNSET
    industry: str | None = strawberry.UNSET
    source: Source | None = strawberry.field(
        default=strawberry.UNSET,
        description="Leave out to keep it (updateLead) or for WEB_FORM (captureLead); "
        "null is refused: every lead has a source.",
    )
    channel: Channel | None = strawberry.UNSET
    campaign_id: strawberry.ID | None = strawberry.UNSET
    utm: UtmInput | None = strawberry.UNSET
    budget: Budget | None = strawberry.UNSET
    authority: Authority | None = strawberry.UNSET
    need: Need | None = strawberry.UNSET
    timeline: Timeline | None = strawberry.UNSET
    status: Status | None = strawberry.UNSET
    owner_id: strawberry.ID | None = strawberry.UNSET
    deal_value: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description="Expected value of the deal (account currency)."
    )
    won_amount: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description="Amount won when the lead became a customer."
    )

    def to_values(self) -> dict[str, Any]:
        """Only the fields the caller sent, with ids parsed; enums with null mean default."""
        values: dict[str, Any] = {}
        errors: list[FieldError] = []
        for name in (
            "first_name",
            "last_name",
            "email",
            "phone",
            "job_title",
            "notes",
            "country",
            "region",
            "company_name",
            "company_domain",
            "industry",
            "source",
            "channel",
            "deal_value",
            "won_amount",
        ):
            value = getattr(self, name)
            if value is not strawberry.UNSET:
                values[name] = value
        for name in (
            "seniority",
            "company_size",
            "budget",
            "authority",
            "need",
            "timeline",
            "status",
        ):
            value = getattr(self, name)
            if value is strawberry.UNSET:
                continue
            if value is None:
                errors.append(FieldError(name, "required", f"{name} cannot be null"))
            else:
                values[name] = value
        if self.campaign_id is not strawberry.UNSET:
            values["campaign_id"] = (
                parse_int_id(self.campaign_id, "campaign_id") if self.campaign_id else None
            )
        if self.owner_id is not strawberry.UNSET:
            values["owner_id"] = parse_uuid(self.owner_id, "owner_id") if self.owner_id else None
        if self.utm is not strawberry.UNSET and self.utm is not None:
            for part in ("source", "medium", "campaign", "term", "content"):
                value = getattr(self.utm, part)
                if value is not strawberry.UNSET:
                    values[f"utm_{part}"] = value
        if errors:
            raise ValidationFailed(errors)
        return values


@strawberry.input
class ActivityInput:
    lead_id: strawberry.ID
    type: ActivityType
    occurred_at: datetime | None = strawberry.field(
        default=None, description="Defaults to now; must carry a time zone."
    )
    campaign_id: strawberry.ID | None = None
    details: JSON | None = strawberry.field(
        default=None, description="Flat object of non-personal scalars (page path, content id)."
    )


@strawberry.input(
    description="A new lead: its source is required; other fields left out are empty."
)
class NewLeadInput(LeadInput):
    source: Source = strawberry.field(description="Where the lead came from.")
