"""Consent mutations: capture, staff changes, self-service, double opt-in."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from compliance.consent.confirmations import ConfirmationInvalid
from compliance.consent.ledger import ConsentChange
from compliance.consent.links import InvalidLink as DomainInvalidLink
from core.request_context import current_client_address
from leads import capture
from leads import consent as service
from leads import errors as domain
from leads.models import subject_of
from schema.consent.inputs import CaptureLeadInput, ConsentEvidenceInput
from schema.consent.queries import subject_consent_of
from schema.consent.types import InvalidLink, SubjectConsent
from schema.context import Context
from schema.errors import NotFound, SuppressedContact, ValidationErrors
from schema.ids import parse_uuid
from schema.leads.consent import ConsentRecord
from schema.leads.types import Lead

GPC_HEADER = "sec-gpc"


@strawberry.type
class CapturePayload:
    lead: Lead
    created: bool = strawberry.field(description="False: merged into the lead with this contact.")
    awaiting_confirmation: list[str] = strawberry.field(
        description="Purposes granted subject to the person confirming by email."
    )
    opted_out_by_gpc: list[str] = strawberry.field(
        description="Purposes withdrawn because the browser sent Sec-GPC: 1."
    )
    ignored_grants: list[str] = strawberry.field(
        description="Grants in the submission that the Global Privacy Control signal overrode."
    )


@strawberry.type
class ConsentPayload:
    lead: Lead
    record: ConsentRecord | None = strawberry.field(
        description="Null when nothing changed (a withdrawal of something not granted)."
    )


@strawberry.type
class ConsentLinkSent:
    expires_at: datetime = strawberry.field(description="When the emailed link stops.")


@strawberry.type
class ConsentConfirmed:
    purpose: str


CaptureLeadResult = Annotated[
    CapturePayload | ValidationErrors | SuppressedContact | NotFound,
    strawberry.union("CaptureLeadResult"),
]
ConsentResult = Annotated[
    ConsentPayload | ValidationErrors | NotFound, strawberry.union("ConsentResult")
]
ConsentLinkResult = Annotated[
    ConsentLinkSent | ValidationErrors | NotFound, strawberry.union("ConsentLinkResult")
]
SubjectConsentResult = Annotated[
    SubjectConsent | InvalidLink | ValidationErrors, strawberry.union("SetSubjectConsentResult")
]
ConfirmConsentResult = Annotated[
    ConsentConfirmed | InvalidLink, strawberry.union("ConfirmConsentResult")
]


def _user_agent(info: strawberry.Info[Context]) -> str | None:
    request = info.context.request
    return request.headers.get("user-agent") if request is not None else None


def _gpc(info: strawberry.Info[Context]) -> bool:
    request = info.context.request
    return request is not None and request.headers.get(GPC_HEADER, "").strip() == "1"


def _activity_details(value: object) -> dict[str, object]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise domain.ValidationFailed(
            [domain.FieldError("activity_details", "invalid", "activityDetails must be an object")]
        )
    return value


async def _change(
    info: strawberry.Info[Context],
    lead_id: strawberry.ID,
    change_of: ConsentChange,
    evidence: ConsentEvidenceInput,
) -> ConsentResult:
    principal = info.context.principal
    try:
        parsed = parse_uuid(lead_id, "lead_id")
        event, lead = await service.record_by_staff(
            principal, parsed, change_of, evidence.to_domain()
        )
    except domain.ValidationFailed as failure:
        return ValidationErrors.of(failure)
    except domain.NotFound as failure:
        return NotFound.of(failure)
    record = ConsentRecord.of(event, subject_of(lead)) if event is not None else None
    return ConsentPayload(lead=Lead.of(lead), record=record)


@strawberry.type
class ConsentMutations:
    @strawberry.mutation(description="For API keys with leads:capture (website forms).")
    async def capture_lead(
        self, info: strawberry.Info[Context], input: CaptureLeadInput
    ) -> CaptureLeadResult:
        try:
            request = capture.CaptureRequest(
                values=input.lead.to_values(),
                consents=[c.to_domain() for c in input.consents],
                form_id=input.form_id,
                activity_type=input.activity_type,
                activity_details=_activity_details(input.activity_details),
                gpc=_gpc(info),
                client_address=current_client_address(),
                user_agent=_user_agent(info),
            )
            result = await capture.capture_lead(info.context.principal, request)
        except domain.ValidationFailed as failure:
            return ValidationErrors.of(failure)
        except domain.Suppressed as failure:
            return SuppressedContact.of(failure)
        except domain.NotFound as failure:
            return NotFound.of(failure)
        return CapturePayload(
            lead=Lead.of(result.lead),
            created=result.created,
            awaiting_confirmation=list(result.awaiting_confirmation),
            opted_out_by_gpc=list(result.opted_out_by_gpc),
            ignored_grants=list(result.ignored_grants),
        )

    @strawberry.mutation(description="Record consent the person gave you, with evidence.")
    async def grant_consent(
        self,
        info: strawberry.Info[Context],
        lead_id: strawberry.ID,
        purpose: str,
        evidence: ConsentEvidenceInput,
        notice_version: str | None = None,
    ) -> ConsentResult:
        change = ConsentChange(purpose, granted=True, notice_version=notice_version)
        return await _change(info, lead_id, change, evidence)

    @strawberry.mutation(description="Record a withdrawal (or an objection), with evidence.")
    async def withdraw_consent(
        self,
        info: strawberry.Info[Context],
        lead_id: strawberry.ID,
        purpose: str,
        evidence: ConsentEvidenceInput,
    ) -> ConsentResult:
        return await _change(info, lead_id, ConsentChange(purpose, granted=False), evidence)

    @strawberry.mutation(description="Email the person a signed link to manage their consent.")
    async def send_consent_link(
        self, info: strawberry.Info[Context], lead_id: strawberry.ID
    ) -> ConsentLinkResult:
        try:
            parsed = parse_uuid(lead_id, "lead_id")
            expires = await service.send_self_service_link(info.context.principal, parsed)
        except domain.ValidationFailed as failure:
            return ValidationErrors.of(failure)
        except domain.NotFound as failure:
            return NotFound.of(failure)
        return ConsentLinkSent(expires_at=expires)

    @strawberry.mutation(description="The person grants or withdraws through their own link.")
    async def set_subject_consent(
        self,
        info: strawberry.Info[Context],
        token: str,
        purpose: str,
        granted: bool,
        notice_version: str | None = None,
    ) -> SubjectConsentResult:
        try:
            view = await service.subject_sets(
                token,
                ConsentChange(purpose, granted, notice_version),
                current_client_address(),
                _user_agent(info),
            )
        except DomainInvalidLink as invalid:
            return InvalidLink(message=str(invalid))
        except domain.ValidationFailed as failure:
            return ValidationErrors.of(failure)
        return subject_consent_of(view)

    @strawberry.mutation(description="The person confirms a double opt-in from their email.")
    async def confirm_consent(
        self, info: strawberry.Info[Context], token: str
    ) -> ConfirmConsentResult:
        try:
            event = await service.confirm_double_opt_in(
                token, current_client_address(), _user_agent(info)
            )
        except ConfirmationInvalid as invalid:
            return InvalidLink(message=str(invalid))
        return ConsentConfirmed(purpose=event.purpose)
