"""Follow-up tasks as staff see them: the ones on leads they may work, SLA breaches, and
completing a task by hand (a recorded call, meeting or email completes it on its own)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import F, Q, Subquery
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from audit.events import Event, Outcome, Target, record
from core.errors import FieldError, NotFound, ValidationFailed
from identity.events import actor_of
from identity.principal import Principal
from leads.models import Task, TaskKind
from leads.repository import LeadRepository

MAX_TASKS = 200


@dataclass(frozen=True, slots=True)
class TaskFilter:
    kind: TaskKind | None = None
    owner_id: uuid.UUID | None = None
    open_only: bool = False
    breached: bool | None = None
    due_from: datetime | None = None
    due_to: datetime | None = None


def _breached(now: datetime) -> Q:
    return Q(completed_at__isnull=False, completed_at__gt=F("due_at")) | Q(
        completed_at__isnull=True, due_at__lt=now
    )


def visible(principal: Principal, *, writing: bool = False) -> QuerySet[Task]:
    """Tasks of the leads the principal may load (or change)."""
    leads = LeadRepository(principal, writing=writing).readable()
    return Task.filter(lead_id__in=Subquery(leads.values("id")))


async def tasks_for(lead_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Task]]:
    """Every task of these leads (already loaded within scope), soonest due first."""
    found: dict[uuid.UUID, list[Task]] = defaultdict(list)
    for row in await Task.filter(lead_id__in=list(lead_ids)).order_by("due_at", "step"):
        found[row.lead_id].append(row)
    return found


async def list_tasks(
    principal: Principal, task_filter: TaskFilter, now: datetime, first: int = 50
) -> list[Task]:
    if not 1 <= first <= MAX_TASKS:
        raise ValidationFailed(
            [FieldError("first", "out_of_range", f"first must be between 1 and {MAX_TASKS}")]
        )
    query = visible(principal)
    f = task_filter
    if f.kind is not None:
        query = query.filter(kind=f.kind)
    if f.owner_id is not None:
        query = query.filter(owner_id=f.owner_id)
    if f.open_only:
        query = query.filter(completed_at__isnull=True)
    if f.due_from is not None:
        query = query.filter(due_at__gte=f.due_from)
    if f.due_to is not None:
        query = query.filter(due_at__lt=f.due_to)
    if f.breached is True:
        query = query.filter(_breached(now))
    elif f.breached is False:
        query = query.exclude(_breached(now))
    return await query.order_by("due_at", "id").limit(first)


async def complete_task(principal: Principal, task_id: uuid.UUID, now: datetime) -> Task:
    async with in_transaction("default"):
        task = await visible(principal, writing=True).filter(id=task_id).select_for_update().first()
        if task is None:
            raise NotFound("task")
        if task.completed_at is not None:
            raise ValidationFailed(
                [FieldError("id", "already_completed", "the task is already completed")]
            )
        task.completed_at, task.completed_by_id = now, principal.user_id
        await task.save(update_fields=["completed_at", "completed_by_id"])
        await record(
            Event(
                action="lead.task.completed",
                outcome=Outcome.SUCCESS,
                actor=actor_of(principal),
                target=Target("lead", str(task.lead_id)),
                details={"kind": task.kind.value, "step": task.step},
            )
        )
    return task
