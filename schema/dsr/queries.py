"""Queries for compliance officers: requests, deadline alerts, holds, the record of
processing."""

from __future__ import annotations

import enum
from typing import Annotated, cast

import strawberry
from strawberry.scalars import JSON

from identity import clock
from leads import errors as domain
from rights import certificate, holds, requests
from rights.ropa import record_of_processing
from schema.context import Context
from schema.dsr.types import DataSubjectRequest, LegalHold
from schema.enums import RequestKind, RequestStatus
from schema.errors import NotFound, ValidationErrors
from schema.ids import parse_uuid


@strawberry.enum(description="Deadline alerts: due within 7 days, or past due.")
class DeadlineAlert(enum.Enum):
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


@strawberry.input
class DataSubjectRequestFilter:
    status: RequestStatus | None = None
    kind: RequestKind | None = None
    assigned_to_me: bool = False
    open_only: bool = False
    alert: DeadlineAlert | None = strawberry.field(
        default=None, description="DUE_SOON also lists overdue requests."
    )


DataSubjectRequestResult = Annotated[
    DataSubjectRequest | NotFound | ValidationErrors, strawberry.union("DataSubjectRequestResult")
]


def _filter(
    info: strawberry.Info[Context], chosen: DataSubjectRequestFilter
) -> requests.RequestFilter:
    return requests.RequestFilter(
        status=chosen.status,
        kind=chosen.kind,
        assigned_to_id=info.context.principal.user_id if chosen.assigned_to_me else None,
        open_only=chosen.open_only,
        alert=chosen.alert.value if chosen.alert else None,
    )


@strawberry.type
class DsrQueries:
    @strawberry.field(description="Data-subject requests, soonest due first (at most 500).")
    async def data_subject_requests(
        self, info: strawberry.Info[Context], filter: DataSubjectRequestFilter | None = None
    ) -> list[DataSubjectRequest]:
        chosen = _filter(info, filter or DataSubjectRequestFilter())
        rows = await requests.list_requests(info.context.principal, chosen, clock.now(), 500)
        return [DataSubjectRequest.of(row) for row in rows]

    @strawberry.field(description="One data-subject request.")
    async def data_subject_request(
        self, info: strawberry.Info[Context], id: strawberry.ID
    ) -> DataSubjectRequestResult:
        try:
            row = await requests.get(info.context.principal, parse_uuid(id, "id"))
        except domain.ValidationFailed as failure:
            return ValidationErrors.of(failure)
        except domain.NotFound as failure:
            return NotFound.of(failure)
        return DataSubjectRequest.of(row)

    @strawberry.field(description="Legal holds, newest first.")
    async def legal_holds(
        self, info: strawberry.Info[Context], active_only: bool = True
    ) -> list[LegalHold]:
        rows = await holds.list_holds(info.context.principal, clock.now(), active_only=active_only)
        return [LegalHold.of(row) for row in rows]

    @strawberry.field(description="The record of processing activities (GDPR Art. 30).")
    def record_of_processing(self) -> JSON:
        return cast(JSON, record_of_processing(clock.now()))

    @strawberry.field(
        description="The Ed25519 public key (hex) that signs erasure certificates, to publish."
    )
    async def erasure_certificate_key(self) -> str:
        return await certificate.public_key_hex()
