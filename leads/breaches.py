"""``task.sla_breached``: announced once per task, when the worker first finds it open past
its due time or done late. Only tasks due within :data:`LOOKBACK` are looked at: older
breaches (history from before events existed, or a worker down for days) are not
announced, as a receiver acts on a breach now, not on a month-old one."""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from compliance.events.emit import emit, lead_event
from compliance.events.types import EventType
from leads.models import Task

LOOKBACK = timedelta(days=1)
BATCH = 500


async def announce_breaches(now: datetime) -> int:
    """Emit ``task.sla_breached`` for tasks newly breached; returns how many."""
    late = Q(completed_at__isnull=True) | Q(completed_at__gt=F("due_at"))
    announced = 0
    while True:
        async with in_transaction("default"):
            tasks = (
                await Task.filter(
                    breach_announced_at__isnull=True, due_at__lt=now, due_at__gte=now - LOOKBACK
                )
                .filter(late)
                .order_by("due_at")
                .limit(BATCH)
                .select_for_update(skip_locked=True)
            )
            if not tasks:
                return announced
            await emit(
                [
                    lead_event(
                        EventType.TASK_SLA_BREACHED,
                        t.lead_id,
                        taskId=str(t.id),
                        ownerId=str(t.owner_id) if t.owner_id else None,
                        dueAt=t.due_at.isoformat().replace("+00:00", "Z"),
                    )
                    for t in tasks
                ],
                now,
            )
            await Task.filter(id__in=[t.id for t in tasks]).update(breach_announced_at=now)
            announced += len(tasks)
