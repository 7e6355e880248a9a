"""Reading the audit log: filtered pages for auditors, and who accessed one subject."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from audit.models import AuditEvent, AuditSubject
from core.cursors import Page
from crypto.cursors import open_cursor, seal_cursor

CURSOR_KIND = "audit"
ACCESS_ACTIONS = ("lead.read", "access.break_glass.used")
CHANGE_PREFIX = "lead."


@dataclass(frozen=True, slots=True)
class EventFilter:
    actor_id: str | None = None
    role: str | None = None
    action: str | None = None
    subject_id: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _filtered(f: EventFilter) -> QuerySet[AuditEvent]:
    query = AuditEvent.filter(seq__isnull=False)
    if f.actor_id is not None:
        query = query.filter(actor_id=f.actor_id)
    if f.role is not None:
        query = query.filter(actor_role=f.role)
    if f.action is not None:
        query = (
            query.filter(action__startswith=f.action[:-1])
            if f.action.endswith("*")
            else query.filter(action=f.action)
        )
    if f.outcome is not None:
        query = query.filter(outcome=f.outcome)
    if f.since is not None:
        query = query.filter(occurred_at__gte=f.since)
    if f.until is not None:
        query = query.filter(occurred_at__lt=f.until)
    if f.subject_id is not None:
        naming = AuditSubject.filter(subject_id=f.subject_id).values("seq")
        query = query.filter(seq__in=Subquery(naming))
    return query


async def page(f: EventFilter, first: int, after: str | None, binding: str) -> Page[AuditEvent]:
    """Newest first; ``after`` is a cursor from the previous page, issued to ``binding``."""
    query = _filtered(f)
    if after is not None:
        _, seq = open_cursor(after, CURSOR_KIND, binding, int, int)
        query = query.filter(seq__lt=seq)
    rows = await query.order_by("-seq").limit(first + 1)
    items = rows[:first]
    return Page(
        items=items,
        cursors=[seal_cursor(CURSOR_KIND, binding, r.seq, r.seq) for r in items],
        has_next_page=len(rows) > first,
    )


async def count(f: EventFilter) -> int:
    return await _filtered(f).count()


async def access_report(subject_id: uuid.UUID, limit: int = 1000) -> list[AuditEvent]:
    """Every read and change of one subject's data, oldest first: who, when, which
    fields, for what purpose (the GDPR access request reuses it)."""
    naming = AuditSubject.filter(subject_id=str(subject_id)).values("seq")
    return (
        await AuditEvent.filter(seq__in=Subquery(naming))
        .filter(Q(action__in=ACCESS_ACTIONS) | Q(action__startswith=CHANGE_PREFIX))
        .order_by("seq")
        .limit(limit)
    )
