"""GraphQL types of the audit log."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from audit.models import AuditEvent as AuditEventRow
from audit.verify import Verification
from core.cursors import Page
from schema.pagination import PageInfo


@strawberry.type(description="One audit event: who did what to which record, never a value.")
class AuditEvent:
    seq: int
    occurred_at: datetime
    action: str
    outcome: str
    actor_type: str
    actor_id: str | None
    actor_role: str | None
    session_id: str | None
    request_id: str | None
    target_type: str | None
    target_id: str | None
    subject_ids: list[str]
    fields_revealed: list[str] = strawberry.field(
        description="Fields read in clear, or changed by a write."
    )
    fields_masked: list[str]
    fields_denied: list[str]
    purpose: str | None
    mfa_age_seconds: int | None
    client: str | None = strawberry.field(description="Keyed hash of the client address.")
    details: JSON
    hash: str

    @classmethod
    def of(cls, row: AuditEventRow) -> AuditEvent:
        return cls(
            seq=row.seq or 0,
            occurred_at=row.occurred_at,
            action=row.action,
            outcome=row.outcome,
            actor_type=row.actor_type,
            actor_id=row.actor_id,
            actor_role=row.actor_role,
            session_id=row.session_id,
            request_id=row.request_id,
            target_type=row.target_type,
            target_id=row.target_id,
            subject_ids=list(row.subject_ids or []),
            fields_revealed=list(row.fields_touched or []),
            fields_masked=list(row.fields_masked or []),
            fields_denied=list(row.fields_denied or []),
            purpose=row.purpose,
            mfa_age_seconds=row.mfa_age_seconds,
            client=row.client,
            details=JSON(row.details),
            hash=row.hash or "",
        )


@strawberry.type
class AuditEventEdge:
    cursor: str
    node: AuditEvent


@strawberry.type
class AuditEventConnection:
    edges: list[AuditEventEdge]
    page_info: PageInfo

    @classmethod
    def of(cls, page: Page[AuditEventRow]) -> AuditEventConnection:
        edges = [
            AuditEventEdge(cursor=c, node=AuditEvent.of(r))
            for r, c in zip(page.items, page.cursors, strict=True)
        ]
        end = page.cursors[-1] if page.cursors else None
        return cls(
            edges=edges, page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=end)
        )


@strawberry.type(description="The result of checking the whole chain and its checkpoints.")
class AuditVerification:
    ok: bool
    events_checked: int
    first_seq: int | None
    last_seq: int | None
    checkpoints_checked: int
    last_checkpoint_seq: int | None
    last_checkpoint_at: datetime | None
    problem_seq: int | None = strawberry.field(description="The first bad event.")
    problem: str | None

    @classmethod
    def of(cls, result: Verification) -> AuditVerification:
        return cls(
            ok=result.ok,
            events_checked=result.events_checked,
            first_seq=result.first_seq,
            last_seq=result.last_seq,
            checkpoints_checked=result.checkpoints_checked,
            last_checkpoint_seq=result.last_checkpoint_seq,
            last_checkpoint_at=result.last_checkpoint_at,
            problem_seq=result.problem.seq if result.problem else None,
            problem=result.problem.reason if result.problem else None,
        )


@strawberry.type(description="One access to, or change of, a subject's data.")
class AccessReportEntry:
    seq: int
    occurred_at: datetime
    action: str
    actor_type: str
    actor_id: str | None
    actor_role: str | None
    fields_revealed: list[str]
    fields_masked: list[str]
    fields_denied: list[str]
    purpose: str | None
    break_glass: bool

    @classmethod
    def of(cls, row: AuditEventRow) -> AccessReportEntry:
        return cls(
            seq=row.seq or 0,
            occurred_at=row.occurred_at,
            action=row.action,
            actor_type=row.actor_type,
            actor_id=row.actor_id,
            actor_role=row.actor_role,
            fields_revealed=list(row.fields_touched or []),
            fields_masked=list(row.fields_masked or []),
            fields_denied=list(row.fields_denied or []),
            purpose=row.purpose,
            break_glass=row.action == "access.break_glass.used"
            or bool((row.details or {}).get("break_glass")),
        )
