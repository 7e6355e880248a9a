"""What each operation was and how it ended, for the request metrics; and the read-only
mark that lets a query's reads go to a replica (:mod:`core.request_context`).

The operation is named by its type and root fields, taken from the document only once it
passed validation (so they are schema names, never client text); the outcome is one of
:data:`core.metrics.OUTCOMES`. The HTTP layer times the request and counts it with these.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from strawberry.extensions import SchemaExtension

from core import metrics
from core.request_context import bind_read_only
from schema.gate import root_fields

_CODES = {"RATE_LIMITED": "rate_limited", "UNAUTHENTICATED": "unauthenticated"}


def _outcome(result: Any, invalid: bool) -> str:
    if invalid:
        return "invalid"
    errors = getattr(result, "errors", None) or []
    if not errors:
        return "ok"
    for error in errors:
        code = (error.extensions or {}).get("code")
        if code in _CODES:
            return _CODES[code]
    return "partial" if getattr(result, "data", None) else "error"


class OperationReport(SchemaExtension):
    executed = False
    """Whether the document got as far as execution (it parsed and passed validation)."""

    def on_execute(self) -> Any:
        """Executing a query: its reads outside transactions may use a replica."""
        self.executed = True
        bind_read_only(self.execution_context.operation_type.value == "query")
        yield

    async def on_operation(self) -> AsyncIterator[None]:
        bind_read_only(False)
        try:
            yield
        finally:
            bind_read_only(False)
        execution = self.execution_context
        request = getattr(execution.context, "request", None)
        if request is None:
            return
        label = "invalid"
        if self.executed and execution.graphql_document is not None:
            roots = root_fields(execution.graphql_document, execution.operation_name)
            label = metrics.operation_label(execution.operation_type.value, sorted(roots))
        state = request.scope.setdefault("state", {})
        state["operation"] = label
        state["outcome"] = _outcome(execution.result, invalid=not self.executed)
