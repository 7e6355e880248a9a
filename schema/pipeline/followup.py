"""Follow-up tasks (SLA breaches included), completing them, and round-robin assignment."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import strawberry

from leads import assignment, tasks
from leads import errors as domain
from leads.models import TaskKind
from schema.context import Context
from schema.errors import NotFound, ValidationErrors
from schema.ids import parse_uuid
from schema.leads.mutations import LeadPayload
from schema.leads.related import FollowUpTask
from schema.leads.types import Lead


@strawberry.input
class TaskFilter:
    kind: TaskKind | None = None
    owner_id: strawberry.ID | None = None
    open_only: bool = strawberry.field(default=False, description="Only tasks not done yet.")
    breached: bool | None = strawberry.field(
        default=None, description="True: SLA breaches (done late, or open past due)."
    )
    due_from: datetime | None = strawberry.field(default=None, description="Inclusive.")
    due_to: datetime | None = strawberry.field(default=None, description="Exclusive.")

    def to_domain(self) -> tasks.TaskFilter:
        return tasks.TaskFilter(
            kind=self.kind,
            owner_id=parse_uuid(self.owner_id, "owner_id") if self.owner_id else None,
            open_only=self.open_only,
            breached=self.breached,
            due_from=self.due_from,
            due_to=self.due_to,
        )


@strawberry.type
class TaskList:
    tasks: list[FollowUpTask]


@strawberry.type
class TaskPayload:
    task: FollowUpTask


TasksResult = Annotated[TaskList | ValidationErrors, strawberry.union("TasksResult")]
CompleteTaskResult = Annotated[
    TaskPayload | ValidationErrors | NotFound, strawberry.union("CompleteTaskResult")
]
AssignLeadResult = Annotated[
    LeadPayload | ValidationErrors | NotFound, strawberry.union("AssignLeadResult")
]


@strawberry.type
class FollowUpQueries:
    @strawberry.field(description="Follow-up tasks on the leads you work, soonest due first.")
    async def tasks(
        self,
        info: strawberry.Info[Context],
        filter: TaskFilter | None = None,
        first: int = 50,
    ) -> TasksResult:
        try:
            chosen = (filter or TaskFilter()).to_domain()
            rows = await tasks.list_tasks(info.context.principal, chosen, datetime.now(UTC), first)
        except domain.ValidationFailed as failure:
            return ValidationErrors.of(failure)
        return TaskList(tasks=[FollowUpTask.of(row) for row in rows])


@strawberry.type
class FollowUpMutations:
    @strawberry.mutation(description="Mark a task done (recorded touches do this on their own).")
    async def complete_task(
        self, info: strawberry.Info[Context], id: strawberry.ID
    ) -> CompleteTaskResult:
        try:
            row = await tasks.complete_task(
                info.context.principal, parse_uuid(id, "id"), datetime.now(UTC)
            )
        except domain.ValidationFailed as failure:
            return ValidationErrors.of(failure)
        except domain.NotFound as failure:
            return NotFound.of(failure)
        return TaskPayload(task=FollowUpTask.of(row))

    @strawberry.mutation(
        description="Give a lead to the next rep of the team with capacity (round robin)."
    )
    async def assign_lead(
        self, info: strawberry.Info[Context], lead_id: strawberry.ID
    ) -> AssignLeadResult:
        try:
            lead = await assignment.assign_lead(
                info.context.principal, parse_uuid(lead_id, "lead_id"), datetime.now(UTC)
            )
        except domain.ValidationFailed as failure:
            return ValidationErrors.of(failure)
        except domain.NotFound as failure:
            return NotFound.of(failure)
        return LeadPayload(lead=Lead.of(lead))
