"""GraphQL types of data-subject requests and legal holds. They carry ids, statuses and
times; the person's own data is read through ``lead`` under the request's purpose."""

from __future__ import annotations

import json
from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from compliance.dsr.models import DataSubjectRequest as RequestRow
from compliance.dsr.models import LegalHold as HoldRow
from compliance.dsr.models import SubjectExport
from crypto.vault import current_vault, location_of, open_secret
from identity import clock
from rights import errors as domain
from rights.requests import alert_of, requester_of
from schema.context import Context
from schema.enums import Jurisdiction, RequestKind, RequestStatus


@strawberry.type(description="Who made a request and what they asked, in their words.")
class Requester:
    email: str | None
    phone: str | None
    details: str | None


@strawberry.type(description="A request from a person about their personal data.")
class DataSubjectRequest:
    id: strawberry.ID
    kind: RequestKind
    jurisdiction: Jurisdiction
    status: RequestStatus
    channel: str
    received_at: datetime
    acknowledge_by: datetime | None = strawberry.field(
        description="CCPA: acknowledge within 10 business days."
    )
    acknowledged_at: datetime | None
    first_due_at: datetime = strawberry.field(description="The deadline before any extension.")
    due_at: datetime
    extended_at: datetime | None
    verified_at: datetime | None
    assigned_to_id: strawberry.ID | None
    approved_by_id: strawberry.ID | None
    approved_at: datetime | None
    rejection_reason: str | None
    outcome: str | None = strawberry.field(
        description="completed, or partially_completed_legal_hold when a hold kept some data."
    )
    completed_at: datetime | None
    certificate: JSON | None = strawberry.field(
        description="The signed erasure certificate, once the erasure has run."
    )

    @strawberry.field(description="overdue, due_soon (within 7 days) or null.")
    def alert(self) -> str | None:
        return alert_of(self._row, clock.now())

    @strawberry.field(description="The person's leads found by email or phone.")
    async def subject_ids(self, info: strawberry.Info[Context]) -> list[strawberry.ID]:
        found = await info.context.loaders.request_subjects.load(self._row.id)
        return [strawberry.ID(str(i)) for i in found]

    @strawberry.field(
        description="The requester's email, phone and request text (each read is audited)."
    )
    async def requester(self, info: strawberry.Info[Context]) -> Requester:
        found = await requester_of(info.context.principal, self._row.id, clock.now())
        return Requester(email=found.email, phone=found.phone, details=found.details)

    _row: strawberry.Private[RequestRow]

    @classmethod
    def of(cls, row: RequestRow) -> DataSubjectRequest:
        return cls(
            id=strawberry.ID(str(row.id)),
            kind=row.kind,
            jurisdiction=row.jurisdiction,
            status=row.status,
            channel=row.channel,
            received_at=row.received_at,
            acknowledge_by=row.acknowledge_by,
            acknowledged_at=row.acknowledged_at,
            first_due_at=row.first_due_at,
            due_at=row.due_at,
            extended_at=row.extended_at,
            verified_at=row.verified_at,
            assigned_to_id=strawberry.ID(str(row.assigned_to_id)) if row.assigned_to_id else None,
            approved_by_id=strawberry.ID(str(row.approved_by_id)) if row.approved_by_id else None,
            approved_at=row.approved_at,
            rejection_reason=row.rejection_reason.value if row.rejection_reason else None,
            outcome=row.outcome,
            completed_at=row.completed_at,
            certificate=json.loads(row.certificate) if row.certificate else None,
            _row=row,
        )


@strawberry.type(description="Data that must be kept whatever erasure or retention would do.")
class LegalHold:
    id: strawberry.ID
    scope: str = strawberry.field(description="subject (one lead) or category.")
    lead_id: strawberry.ID | None
    category: str | None
    owner_id: strawberry.ID
    placed_at: datetime
    expires_at: datetime | None
    released_at: datetime | None
    _row: strawberry.Private[HoldRow]

    @strawberry.field
    def reason(self) -> str:
        location = location_of(HoldRow, "reason", self._row.id)
        return open_secret(current_vault(), location, self._row.reason)

    @strawberry.field
    def active(self) -> bool:
        now = clock.now()
        row = self._row
        return row.released_at is None and (row.expires_at is None or row.expires_at > now)

    @classmethod
    def of(cls, row: HoldRow) -> LegalHold:
        return cls(
            id=strawberry.ID(str(row.id)),
            scope=row.scope.value,
            lead_id=strawberry.ID(str(row.lead_id)) if row.lead_id else None,
            category=row.category,
            owner_id=strawberry.ID(str(row.owner_id)),
            placed_at=row.placed_at,
            expires_at=row.expires_at,
            released_at=row.released_at,
            _row=row,
        )


@strawberry.type(description="An access export: encrypted at rest, deleted when it expires.")
class SubjectExportInfo:
    id: strawberry.ID
    format: str
    size: int
    created_at: datetime
    expires_at: datetime
    downloads: int

    @classmethod
    def of(cls, row: SubjectExport) -> SubjectExportInfo:
        return cls(
            id=strawberry.ID(str(row.id)),
            format=row.format,
            size=row.size,
            created_at=row.created_at,
            expires_at=row.expires_at,
            downloads=row.downloads,
        )


@strawberry.type(description="The request is not in a state that allows this; nothing changed.")
class RequestRefused:
    code: str
    message: str

    @classmethod
    def of(cls, failure: domain.RequestRefused) -> RequestRefused:
        return cls(code=failure.code, message=failure.message)


@strawberry.type(description="The identity code was not accepted.")
class IdentityCodeRejected:
    reason: str = strawberry.field(description="wrong_code, expired or attempts_used.")
    remaining_attempts: int = strawberry.field(description="0: send a new code.")
    message: str

    @classmethod
    def of(cls, failure: domain.CodeRejected) -> IdentityCodeRejected:
        return cls(
            reason=failure.reason, remaining_attempts=failure.remaining, message=str(failure)
        )
