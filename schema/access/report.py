"""The response's access report, and the request's read recorded before the response
leaves (fail closed).

``extensions.access.masked`` lists the path and strategy of every masked value;
``extensions.access.breakGlass`` is present while the caller holds a break-glass grant;
``extensions.access.purposeRequired`` tells a compliance officer who asked for leads
without declaring a purpose why the list is empty and how to open it. If
the read cannot be recorded, the response carries no data and says so (``AUDIT_UNAVAILABLE``);
for a mutation that answers with personal data the change is undone with it, so the answer
never claims a change failed when it committed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from graphql import ExecutionResult, GraphQLError, OperationType, get_operation_ast
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType as StrawberryOperation
from tortoise.transactions import in_transaction

from audit.events import Event, Outcome, record
from compliance.access.break_glass import record_uses
from compliance.access.decide import awaits_purpose
from compliance.access.rules import Access
from identity.events import actor_of
from identity.principal import Principal
from schema.access.gates import ReadGates
from schema.access.mutations import selects_revealing_mutation
from schema.access.state import RequestAccess
from schema.gate import root_fields

log = logging.getLogger("leadvault.access")

PURPOSE_REQUIRED = (
    "A compliance officer sees leads only under a declared purpose. Send the header "
    "X-LeadVault-Purpose: data_subject_request:<request id> for a verified request "
    "assigned to you; its subjects' leads are then listed."
)


def _access_of(context: Any) -> RequestAccess | None:
    found = vars(context).get("access") if hasattr(context, "__dict__") else None
    return found if isinstance(found, RequestAccess) else None


def read_event(access: RequestAccess) -> Event | None:
    """One event for the whole request: every lead it touched and, per kind, the names of
    the fields revealed, masked and denied (never a value)."""
    if not access.seen:
        return None
    revealed: set[str] = set()
    masked: set[str] = set()
    denied: set[str] = set()
    for fields in access.seen.values():
        for name, decision in fields.items():
            {Access.REVEAL: revealed, Access.MASK: masked, Access.DENY: denied}[decision].add(name)
    principal = access.principal
    return Event(
        action="lead.read",
        outcome=Outcome.DENIED if denied and not revealed and not masked else Outcome.SUCCESS,
        actor=actor_of(principal),
        subject_ids=tuple(sorted(str(lead_id) for lead_id in access.seen)),
        fields=tuple(sorted(revealed)),
        fields_masked=tuple(sorted(masked)),
        fields_denied=tuple(sorted(denied)),
        purpose=principal.purpose,
        details={"subjects": len(access.seen), "break_glass": bool(access.break_glass)},
    )


def _by_path(entry: dict[str, Any]) -> list[str | int]:
    """Masked values in the order of their paths (siblings are all indexes or all keys)."""
    path: list[str | int] = entry["path"]
    return path


def withhold_payload(result: Any) -> None:
    """A subscription payload whose read could not be recorded: sent without its data."""
    result.data = None
    result.errors = [
        GraphQLError(
            "this read could not be recorded, so nothing is returned",
            extensions={"code": "AUDIT_UNAVAILABLE"},
        )
    ]


class _Unrecorded(Exception):
    """The read event could not be written (rolls back a revealing mutation)."""


class AccessReport(SchemaExtension):
    """Writes the request's read event (and any break-glass uses) before the response
    leaves; if that fails, the response carries no data. A mutation that can answer with
    personal data (:mod:`schema.access.mutations`) runs in one transaction with its read
    event, so a failed event also undoes the change and the answer is true: nothing
    changed, nothing is returned."""

    async def on_execute(self) -> AsyncIterator[None]:
        if not self._revealing_mutation():
            yield
            await self._record_or_withhold()
            return
        try:
            async with in_transaction("default"):
                yield
                if not await self._record(_access_of(self.execution_context.context)):
                    raise _Unrecorded
        except _Unrecorded:
            self._withhold(
                "this change could not be recorded, so it was not made and nothing is returned"
            )

    async def on_stream_result(self, result: Any) -> AsyncIterator[None]:
        """A subscription's payload: its read is recorded before it is sent (if it cannot
        be, the payload carries no data), then the next payload starts afresh (its own
        decisions, consent and rows, its own read event). A transport with read gates
        (:mod:`schema.access.gates`) holds the payload until its read is recorded, so the
        subscription goes on meanwhile; otherwise the recording is awaited here."""
        if self.execution_context.operation_type is StrawberryOperation.SUBSCRIPTION:
            context = self.execution_context.context
            access = _access_of(context)
            gates = getattr(context, "read_gates", None)
            if isinstance(gates, ReadGates):
                gates.hold(result, asyncio.ensure_future(self._record(access)))
            elif not await self._record(access):
                withhold_payload(result)
            state = vars(context)
            state.pop("access", None)
            state.pop("loaders", None)
        yield

    def _revealing_mutation(self) -> bool:
        context = self.execution_context
        document = context.graphql_document
        if document is None:
            return False
        operation = get_operation_ast(document, context.operation_name)
        return (
            operation is not None
            and operation.operation is OperationType.MUTATION
            and selects_revealing_mutation(context.schema._schema, operation)
        )

    async def _record(self, access: RequestAccess | None) -> bool:
        """Write the read event (and break-glass uses); False if it could not be written."""
        if access is None:
            return True
        event = read_event(access)
        if event is None:
            return True
        try:
            if access.break_glass:
                async with in_transaction("default"):
                    await record(event)
                    await record_uses(access.principal, access.break_glass)
            else:
                await record(event)
        except Exception:
            log.exception("the read could not be recorded; response withheld")
            return False
        return True

    async def _record_or_withhold(self) -> None:
        if not await self._record(_access_of(self.execution_context.context)):
            self._withhold("this read could not be recorded, so nothing is returned")

    def _withhold(self, message: str) -> None:
        result = self.execution_context.result
        if isinstance(result, ExecutionResult):
            result.data = None
            result.errors = [GraphQLError(message, extensions={"code": "AUDIT_UNAVAILABLE"})]
        access = _access_of(self.execution_context.context)
        if access is not None:
            access.masked.clear()

    def get_results(self) -> dict[str, Any]:
        context = self.execution_context.context
        access = _access_of(context)
        report: dict[str, Any] = {}
        if access is not None and access.masked:
            report["masked"] = sorted(access.masked, key=_by_path)
        auth = getattr(context, "auth", None)
        principal = access.principal if access is not None else getattr(auth, "principal", None)
        if principal is not None and principal.break_glass_active:
            report["breakGlass"] = {"grantId": str(principal.break_glass_grant_id)}
        if principal is not None and self._asks_leads_without_purpose(principal):
            report["purposeRequired"] = PURPOSE_REQUIRED
        return {"access": report} if report else {}

    def _asks_leads_without_purpose(self, principal: Principal) -> bool:
        execution = self.execution_context
        if not awaits_purpose(principal):
            return False
        document = execution.graphql_document
        if document is None:
            return False
        return bool(root_fields(document, execution.operation_name) & {"leads", "lead"})
