"""Mutations for compliance officers. Each parses its input, calls the domain, and returns
the request or a typed reason it refused (nothing changed)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, TypeVar

import strawberry

from audit.events import Actor
from compliance.dsr.models import DataSubjectRequest as RequestRow
from compliance.dsr.models import RejectionReason
from identity import clock
from identity import errors as auth_errors
from identity.events import actor_of
from leads import errors as domain
from rights import erasure, export, fulfil, holds, requests, verification
from rights import errors as dsr_errors
from schema.auth.errors import StepUpRequired
from schema.context import Context
from schema.dsr.types import (
    DataSubjectRequest,
    IdentityCodeRejected,
    LegalHold,
    RequestRefused,
    SubjectExportInfo,
)
from schema.enums import Jurisdiction, RequestKind
from schema.errors import NotFound, ValidationErrors
from schema.ids import parse_uuid

Refusal = ValidationErrors | NotFound | RequestRefused
RequestResult = Annotated[
    DataSubjectRequest | Refusal,
    strawberry.union("DataSubjectRequestChangeResult"),
]
VerifyResult = Annotated[
    DataSubjectRequest | Refusal | IdentityCodeRejected,
    strawberry.union("VerifyIdentityResult"),
]
ApproveResult = Annotated[
    DataSubjectRequest | Refusal | StepUpRequired,
    strawberry.union("ApproveErasureResult"),
]


@strawberry.type
class IdentityCodeSent:
    expires_at: datetime


SendCodeResult = Annotated[
    IdentityCodeSent | Refusal,
    strawberry.union("SendIdentityCodeResult"),
]


@strawberry.type
class SubjectExportPayload:
    export: SubjectExportInfo
    download_url: str = strawberry.field(description="Also sent to the requester.")
    link_expires_at: datetime


ExportResult = Annotated[
    SubjectExportPayload | Refusal,
    strawberry.union("GenerateSubjectExportResult"),
]


@strawberry.type
class RectifyPayload:
    changed_fields: list[str]


RectifyResult = Annotated[
    RectifyPayload | Refusal,
    strawberry.union("RectifySubjectResult"),
]
HoldResult = Annotated[LegalHold | Refusal, strawberry.union("LegalHoldResult")]


@strawberry.input
class NewDataSubjectRequestInput:
    kind: RequestKind
    jurisdiction: Jurisdiction
    email: str | None = None
    phone: str | None = None
    details: str | None = None
    channel: str = "email"
    received_at: datetime | None = strawberry.field(
        default=None, description="When it arrived, if not now (the deadline counts from it)."
    )


@strawberry.input
class RectificationInput:
    first_name: str | None = strawberry.UNSET
    last_name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    job_title: str | None = strawberry.UNSET


@strawberry.input
class LegalHoldInput:
    reason: str
    owner_id: strawberry.ID
    lead_id: strawberry.ID | None = None
    category: str | None = strawberry.field(
        default=None, description="leads, activities, sessions, exports or audit_events."
    )
    expires_at: datetime | None = None


_T = TypeVar("_T")


async def _attempt(call: Callable[[], Awaitable[_T]]) -> _T | Refusal:
    """Run a domain call; its expected refusals become their GraphQL result types."""
    try:
        return await call()
    except domain.ValidationFailed as failure:
        return ValidationErrors.of(failure)
    except domain.NotFound as failure:
        return NotFound.of(failure)
    except dsr_errors.RequestRefused as failure:
        return RequestRefused.of(failure)


async def _changed(call: Callable[[], Awaitable[RequestRow]]) -> DataSubjectRequest | Refusal:
    row = await _attempt(call)
    return row if isinstance(row, Refusal) else DataSubjectRequest.of(row)


def _id(value: strawberry.ID, field: str = "request_id") -> uuid.UUID:
    return parse_uuid(value, field)


@strawberry.type
class DsrMutations:
    @strawberry.mutation(description="Log a request as received; its deadline starts now.")
    async def create_data_subject_request(
        self, info: strawberry.Info[Context], input: NewDataSubjectRequestInput
    ) -> RequestResult:
        new = requests.NewRequest(
            kind=input.kind.value,
            jurisdiction=input.jurisdiction.value,
            email=input.email,
            phone=input.phone,
            details=input.details,
            channel=input.channel,
            received_at=input.received_at,
        )
        return await _changed(lambda: requests.receive(info.context.principal, new, clock.now()))

    @strawberry.mutation(description="Send the requester a one-time code (acknowledges receipt).")
    async def send_identity_code(
        self, info: strawberry.Info[Context], request_id: strawberry.ID
    ) -> SendCodeResult:
        try:
            expires = await verification.send_code(
                info.context.principal, _id(request_id), clock.now()
            )
        except domain.ValidationFailed as failure:
            return ValidationErrors.of(failure)
        except domain.NotFound as failure:
            return NotFound.of(failure)
        except dsr_errors.RequestRefused as failure:
            return RequestRefused.of(failure)
        return IdentityCodeSent(expires_at=expires)

    @strawberry.mutation(description="Check the code the requester read back.")
    async def verify_identity(
        self, info: strawberry.Info[Context], request_id: strawberry.ID, code: str
    ) -> VerifyResult:
        principal = info.context.principal
        try:
            return await _changed(
                lambda: verification.verify_code(principal, _id(request_id), code, clock.now())
            )
        except dsr_errors.CodeRejected as failure:
            return IdentityCodeRejected.of(failure)

    @strawberry.mutation(description="Assign the request to a compliance officer.")
    async def assign_data_subject_request(
        self, info: strawberry.Info[Context], request_id: strawberry.ID, assignee_id: strawberry.ID
    ) -> RequestResult:
        return await _changed(
            lambda: requests.assign(
                info.context.principal,
                _id(request_id),
                _id(assignee_id, "assignee_id"),
                clock.now(),
            )
        )

    @strawberry.mutation(
        description="Extend the deadline once (GDPR: by up to 2 months, CCPA: up to 45 days); "
        "the requester is told why."
    )
    async def extend_data_subject_request(
        self, info: strawberry.Info[Context], request_id: strawberry.ID, by: int, reason: str
    ) -> RequestResult:
        return await _changed(
            lambda: requests.extend(
                info.context.principal, _id(request_id), by, reason, clock.now()
            )
        )

    @strawberry.mutation(
        description="Reject: identity_not_verified, manifestly_unfounded, excessive, "
        "duplicate, legal_obligation or other (with a note)."
    )
    async def reject_data_subject_request(
        self,
        info: strawberry.Info[Context],
        request_id: strawberry.ID,
        reason: str,
        note: str | None = None,
    ) -> RequestResult:
        async def call() -> RequestRow:
            try:
                chosen = RejectionReason(reason)
            except ValueError:
                raise domain.ValidationFailed(
                    [domain.FieldError("reason", "invalid", "not a rejection reason")]
                ) from None
            return await requests.reject(
                info.context.principal, _id(request_id), chosen, note, clock.now()
            )

        return await _changed(call)

    @strawberry.mutation(
        description="Export everything held about the requester (json or csv) and send them "
        "a short-lived download link."
    )
    async def generate_subject_export(
        self, info: strawberry.Info[Context], request_id: strawberry.ID, format: str = "json"
    ) -> ExportResult:
        made = await _attempt(
            lambda: export.generate(info.context.principal, _id(request_id), format, clock.now())
        )
        if isinstance(made, Refusal):
            return made
        return SubjectExportPayload(
            export=SubjectExportInfo.of(made.export),
            download_url=made.url,
            link_expires_at=made.link_expires_at,
        )

    @strawberry.mutation(description="Correct contact and identity fields of a requester's lead.")
    async def rectify_subject(
        self,
        info: strawberry.Info[Context],
        request_id: strawberry.ID,
        lead_id: strawberry.ID,
        input: RectificationInput,
    ) -> RectifyResult:
        values = {k: v for k, v in vars(input).items() if v is not strawberry.UNSET}
        changed = await _attempt(
            lambda: fulfil.rectify(
                info.context.principal,
                _id(request_id),
                _id(lead_id, "lead_id"),
                values,
                clock.now(),
            )
        )
        return changed if isinstance(changed, Refusal) else RectifyPayload(changed_fields=changed)

    @strawberry.mutation(
        description="Close an access, portability, rectification or objection request. For "
        "an objection, the purposes objected to are withdrawn (default: all)."
    )
    async def complete_data_subject_request(
        self,
        info: strawberry.Info[Context],
        request_id: strawberry.ID,
        purposes: list[str] | None = None,
    ) -> RequestResult:
        return await _changed(
            lambda: fulfil.complete(
                info.context.principal, _id(request_id), clock.now(), objected_purposes=purposes
            )
        )

    @strawberry.mutation(description="Submit an erasure for approval.")
    async def submit_erasure(
        self, info: strawberry.Info[Context], request_id: strawberry.ID
    ) -> RequestResult:
        return await _changed(
            lambda: erasure.submit(info.context.principal, _id(request_id), clock.now())
        )

    @strawberry.mutation(
        description="Approve an erasure (needs a recent stepUp) and carry it out; the "
        "request then holds its signed certificate."
    )
    async def approve_erasure(
        self, info: strawberry.Info[Context], request_id: strawberry.ID
    ) -> ApproveResult:
        principal = info.context.principal
        try:
            approved = await _changed(
                lambda: erasure.approve(principal, _id(request_id), clock.now())
            )
        except auth_errors.StepUpRequired as failure:
            return StepUpRequired(message=str(failure), max_age_minutes=failure.max_age_minutes)
        if not isinstance(approved, DataSubjectRequest):
            return approved
        request_uuid = _id(request_id)
        await erasure.execute(request_uuid, now=clock.now, actor=_actor(info))
        return DataSubjectRequest.of(await requests.get(principal, request_uuid))

    @strawberry.mutation(description="Place a legal hold on a lead or a data category.")
    async def place_legal_hold(
        self, info: strawberry.Info[Context], input: LegalHoldInput
    ) -> HoldResult:
        hold = await _attempt(
            lambda: holds.place(
                info.context.principal,
                reason=input.reason,
                owner_id=_id(input.owner_id, "owner_id"),
                lead_id=_id(input.lead_id, "lead_id") if input.lead_id else None,
                category=input.category,
                expires_at=input.expires_at,
                now=clock.now(),
            )
        )
        return hold if isinstance(hold, Refusal) else LegalHold.of(hold)

    @strawberry.mutation(description="Release a legal hold.")
    async def release_legal_hold(
        self, info: strawberry.Info[Context], hold_id: strawberry.ID
    ) -> HoldResult:
        hold = await _attempt(
            lambda: holds.release(info.context.principal, _id(hold_id, "hold_id"), clock.now())
        )
        return hold if isinstance(hold, Refusal) else LegalHold.of(hold)


def _actor(info: strawberry.Info[Context]) -> Actor:
    return actor_of(info.context.principal)
