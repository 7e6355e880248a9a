"""What data-subject requests tell webhooks: ``dsr.due_soon`` once a request's answer (or
acknowledgement) comes within the alert window, ``dsr.completed`` when it is answered. Ids,
kinds and times only: never the requester."""

from __future__ import annotations

from datetime import datetime

from tortoise.transactions import in_transaction

from compliance.dsr.models import DataSubjectRequest
from compliance.events.emit import NewEvent, emit, request_event
from compliance.events.types import EventType
from rights.requests import OPEN, deadline_alert

BATCH = 500


def completed_event(request: DataSubjectRequest) -> NewEvent:
    return request_event(
        EventType.DSR_COMPLETED, request.id, kind=request.kind.value, outcome=request.outcome
    )


async def announce_due_soon(now: datetime) -> int:
    """Emit ``dsr.due_soon`` for each open request that has come within the alert window
    since the last run (once per request). Returns how many."""
    announced = 0
    while True:
        async with in_transaction("default"):
            due = (
                await DataSubjectRequest.filter(status__in=list(OPEN), due_soon_announced_at=None)
                .filter(deadline_alert("due_soon", now))
                .order_by("due_at")
                .limit(BATCH)
                .select_for_update(skip_locked=True)
            )
            if not due:
                return announced
            await emit(
                [
                    request_event(
                        EventType.DSR_DUE_SOON,
                        r.id,
                        kind=r.kind.value,
                        dueAt=_iso(min(_deadlines(r))),
                    )
                    for r in due
                ],
                now,
            )
            await DataSubjectRequest.filter(id__in=[r.id for r in due]).update(
                due_soon_announced_at=now
            )
            announced += len(due)


def _deadlines(request: DataSubjectRequest) -> list[datetime]:
    found = [request.due_at]
    if request.acknowledge_by is not None and request.acknowledged_at is None:
        found.append(request.acknowledge_by)
    return found


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
