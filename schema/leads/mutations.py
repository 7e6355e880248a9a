"""Lead mutations. Each returns a union: the payload, or a typed reason nothing changed."""

from __future__ import annotations

from typing import Annotated

import strawberry

from leads import errors as domain
from leads import service
from leads.models import subject_of
from schema.context import Context
from schema.enums import Stage
from schema.errors import (
    DuplicateLead,
    InvalidTransition,
    NotFound,
    SuppressedContact,
    ValidationErrors,
)
from schema.ids import parse_int_id, parse_uuid
from schema.leads.inputs import ActivityInput, LeadInput, NewLeadInput
from schema.leads.related import Activity, StageChange
from schema.leads.types import Lead


@strawberry.type
class LeadPayload:
    lead: Lead


@strawberry.type
class ActivityPayload:
    activity: Activity


@strawberry.type
class StageChangePayload:
    stage_change: StageChange
    lead: Lead


CreateLeadResult = Annotated[
    LeadPayload | ValidationErrors | DuplicateLead | SuppressedContact | NotFound,
    strawberry.union("CreateLeadResult"),
]
UpdateLeadResult = Annotated[
    LeadPayload | ValidationErrors | DuplicateLead | NotFound,
    strawberry.union("UpdateLeadResult"),
]
RecordActivityResult = Annotated[
    ActivityPayload | ValidationErrors | NotFound, strawberry.union("RecordActivityResult")
]
ChangeStageResult = Annotated[
    StageChangePayload | ValidationErrors | InvalidTransition | NotFound,
    strawberry.union("ChangeStageResult"),
]


@strawberry.type
class LeadMutations:
    @strawberry.mutation
    async def create_lead(
        self, info: strawberry.Info[Context], input: NewLeadInput
    ) -> CreateLeadResult:
        try:
            row = await service.create_lead(info.context.principal, input.to_values())
        except domain.ValidationFailed as failure:
            return ValidationErrors.of(failure)
        except domain.Suppressed as failure:
            return SuppressedContact.of(failure)
        except domain.DuplicateLead as failure:
            return DuplicateLead.of(failure)
        except domain.NotFound as failure:
            return NotFound.of(failure)
        return LeadPayload(lead=Lead.of(row))

    @strawberry.mutation
    async def update_lead(
        self,
        info: strawberry.Info[Context],
        id: strawberry.ID,
        input: LeadInput,
    ) -> UpdateLeadResult:
        try:
            lead_id = parse_uuid(id, "id")
            row = await service.update_lead(info.context.principal, lead_id, input.to_values())
        except domain.ValidationFailed as failure:
            return ValidationErrors.of(failure)
        except domain.DuplicateLead as failure:
            return DuplicateLead.of(failure)
        except domain.NotFound as failure:
            return NotFound.of(failure)
        return LeadPayload(lead=Lead.of(row))

    @strawberry.mutation
    async def record_activity(
        self,
        info: strawberry.Info[Context],
        input: ActivityInput,
    ) -> RecordActivityResult:
        try:
            details: object = input.details if input.details is not None else {}
            if not isinstance(details, dict):
                raise domain.ValidationFailed(
                    [domain.FieldError("details", "invalid", "details must be an object")]
                )
            data = service.ActivityInput(
                lead_id=parse_uuid(input.lead_id, "lead_id"),
                type=input.type,
                occurred_at=input.occurred_at,
                campaign_id=parse_int_id(input.campaign_id, "campaign_id")
                if input.campaign_id
                else None,
                details=details,
            )
            row, lead = await service.record_activity(info.context.principal, data)
        except domain.ValidationFailed as failure:
            return ValidationErrors.of(failure)
        except domain.NotFound as failure:
            return NotFound.of(failure)
        return ActivityPayload(activity=Activity.of(row, subject_of(lead)))

    @strawberry.mutation
    async def change_stage(
        self,
        info: strawberry.Info[Context],
        lead_id: strawberry.ID,
        to: Stage,
        reason: str | None = None,
    ) -> ChangeStageResult:
        principal = info.context.principal
        try:
            parsed = parse_uuid(lead_id, "lead_id")
            change, lead = await service.change_stage(principal, parsed, to, reason)
        except domain.ValidationFailed as failure:
            return ValidationErrors.of(failure)
        except domain.InvalidTransition as failure:
            return InvalidTransition.of(failure)
        except domain.NotFound as failure:
            return NotFound.of(failure)
        return StageChangePayload(
            stage_change=StageChange.of(change, subject_of(lead)), lead=Lead.of(lead)
        )
