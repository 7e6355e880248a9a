"""The response's access report, and break-glass uses written before the response leaves.

``extensions.access.masked`` lists the path and strategy of every masked value;
``extensions.access.breakGlass`` is present while the caller holds a break-glass grant. If
the record of a break-glass read cannot be written, the response carries no data (the read
fails closed).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from graphql import ExecutionResult, GraphQLError
from strawberry.extensions import SchemaExtension

from compliance.access.break_glass import record_uses
from schema.access.state import RequestAccess

log = logging.getLogger("leadvault.access")


def _access_of(context: Any) -> RequestAccess | None:
    found = vars(context).get("access") if hasattr(context, "__dict__") else None
    return found if isinstance(found, RequestAccess) else None


class AccessReport(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        yield
        access = _access_of(self.execution_context.context)
        if access is None or not access.break_glass:
            return
        try:
            await record_uses(access.principal, access.break_glass)
        except Exception:
            log.exception("break-glass use could not be recorded; response withheld")
            result = self.execution_context.result
            if isinstance(result, ExecutionResult):
                result.data = None
                result.errors = [
                    GraphQLError(
                        "this read could not be recorded, so nothing is returned",
                        extensions={"code": "AUDIT_UNAVAILABLE"},
                    )
                ]
            access.masked.clear()

    def get_results(self) -> dict[str, Any]:
        access = _access_of(self.execution_context.context)
        if access is None:
            return {}
        report: dict[str, Any] = {}
        if access.masked:
            report["masked"] = access.masked
        principal = access.principal
        if principal.break_glass_active:
            report["breakGlass"] = {"grantId": str(principal.break_glass_grant_id)}
        return {"access": report} if report else {}
