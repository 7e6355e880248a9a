"""Auditor queries (the gate admits only the roles the policy names)."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from audit import queries
from audit.events import Event, Outcome, Target, record
from audit.verify import verify
from compliance.scopes import may_read_subject_audit
from core.cursors import InvalidCursor
from identity.events import actor_of
from schema.audit.types import AccessReportEntry, AuditEventConnection, AuditVerification
from schema.context import Context
from schema.errors import bad_input

MAX_PAGE = 200


@strawberry.input
class AuditEventFilter:
    actor_id: str | None = None
    role: str | None = None
    action: str | None = strawberry.field(
        default=None, description="Exact, or a prefix ending in * (auth.*)."
    )
    subject_id: strawberry.ID | None = None
    outcome: str | None = None
    since: datetime | None = strawberry.field(default=None, description="Inclusive.")
    until: datetime | None = strawberry.field(default=None, description="Exclusive.")

    def to_domain(self) -> queries.EventFilter:
        return queries.EventFilter(
            actor_id=self.actor_id,
            role=self.role,
            action=self.action,
            subject_id=str(self.subject_id) if self.subject_id else None,
            outcome=self.outcome,
            since=self.since,
            until=self.until,
        )


@strawberry.type
class AuditQueries:
    @strawberry.field(description="The audit log, newest first. Auditors.")
    async def audit_events(
        self,
        info: strawberry.Info[Context],
        first: int = 50,
        after: str | None = None,
        filter: AuditEventFilter | None = None,
    ) -> AuditEventConnection:
        if not 1 <= first <= MAX_PAGE:
            raise bad_input(f"first must be between 1 and {MAX_PAGE}", "first")
        try:
            page = await queries.page(
                (filter or AuditEventFilter()).to_domain(),
                first,
                after,
                info.context.principal.cursor_binding,
            )
        except InvalidCursor as refused:
            raise bad_input(str(refused), "after") from None
        return AuditEventConnection.of(page)

    @strawberry.field(description="Check the whole chain and its signed checkpoints.")
    async def audit_verification(self) -> AuditVerification:
        return AuditVerification.of(await verify())

    @strawberry.field(
        description="Who read or changed this subject's data, when, which fields and why, "
        "oldest first. Auditors; compliance officers for the subjects of the request they "
        "declare. Empty for a subject you may not report on."
    )
    async def access_report(
        self, info: strawberry.Info[Context], subject_id: strawberry.ID
    ) -> list[AccessReportEntry]:
        principal = info.context.principal
        try:
            subject = uuid.UUID(subject_id)
        except ValueError:
            raise bad_input("subjectId is not a lead id", "subjectId") from None
        if not may_read_subject_audit(principal, subject):
            return []
        rows = await queries.access_report(subject)
        await record(
            Event(
                action="audit.access_report.read",
                outcome=Outcome.SUCCESS,
                actor=actor_of(principal),
                target=Target("lead", str(subject)),
                purpose=principal.purpose,
                details={"entries": len(rows)},
            )
        )
        return [AccessReportEntry.of(r) for r in rows]
