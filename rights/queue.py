"""The request queue as a compliance officer works it: pages of requests, soonest due first,
filtered by status, kind, jurisdiction and deadline alert, with requests whose requester is
not yet verified left out unless asked for. One statement per page, whatever the number of
requests (keyset paging on the due instant and id)."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q

from compliance.dsr.models import DataSubjectRequest, Jurisdiction, RequestKind, RequestStatus
from core.cursors import Page
from crypto.cursors import open_cursor, seal_cursor
from rights.officers import Officer, authorize
from rights.requests import OPEN, alert_of, deadline_alert

CURSOR_KIND = "dsr-queue"
UNVERIFIED = frozenset({RequestStatus.RECEIVED, RequestStatus.IDENTITY_PENDING})
"""Requests whose requester has not proven who they are yet."""


@dataclass(frozen=True, slots=True)
class QueueFilter:
    status: RequestStatus | None = None
    kind: RequestKind | None = None
    jurisdiction: Jurisdiction | None = None
    alert: str | None = None
    """``due_soon`` (overdue included) or ``overdue``."""
    include_unverified: bool = False
    """A chosen status counts as asking: choosing ``received`` lists those requests."""


@dataclass(frozen=True, slots=True)
class QueueEntry:
    request: DataSubjectRequest
    days_left: int
    """Whole days to the answer's due instant, rounded down; negative when overdue."""
    alert: str | None


def days_left(due_at: datetime, now: datetime) -> int:
    return math.floor((due_at - now).total_seconds() / 86400)


async def queue_page(
    officer: Officer,
    chosen: QueueFilter,
    now: datetime,
    first: int,
    after: str | None,
    binding: str,
) -> Page[QueueEntry]:
    """A page of the queue; ``after`` is a cursor from the previous page, issued to
    ``binding`` (raises :class:`core.cursors.InvalidCursor` for any other)."""
    authorize(officer)
    query = DataSubjectRequest.all().select_related("assigned_to")
    if chosen.status is not None:
        query = query.filter(status=chosen.status)
    elif not chosen.include_unverified:
        query = query.filter(status__not_in=list(UNVERIFIED))
    if chosen.kind is not None:
        query = query.filter(kind=chosen.kind)
    if chosen.jurisdiction is not None:
        query = query.filter(jurisdiction=chosen.jurisdiction)
    if chosen.alert is not None:
        query = query.filter(status__in=list(OPEN)).filter(deadline_alert(chosen.alert, now))
    if after is not None:
        due, request_id = open_cursor(after, CURSOR_KIND, binding, datetime, uuid.UUID)
        query = query.filter(Q(due_at__gt=due) | Q(due_at=due, id__gt=request_id))
    rows = await query.order_by("due_at", "id").limit(first + 1)
    items = [QueueEntry(r, days_left(r.due_at, now), alert_of(r, now)) for r in rows[:first]]
    return Page(
        items=items,
        cursors=[seal_cursor(CURSOR_KIND, binding, e.request.due_at, e.request.id) for e in items],
        has_next_page=len(rows) > first,
    )
