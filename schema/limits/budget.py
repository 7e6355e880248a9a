"""The request budget: the query's cost against the per-query limit, and the request and
its cost against the caller's per-minute budget (stored in the database). Both are
reported in the response's ``extensions``; a refusal runs nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from graphql import ExecutionResult, GraphQLError
from strawberry.extensions import SchemaExtension

from core import metrics
from identity import clock
from identity.rate_limit import Budget, Usage, key_for, spend
from schema.limits.cost import query_cost


class RequestBudget(SchemaExtension):
    def __init__(self) -> None:
        self.cost: int | None = None
        self.limit: int | None = None
        self.usage: Usage | None = None

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        limits = context.limits
        document = execution.graphql_document
        if document is None or execution.result is not None:
            yield
            return
        self.limit = limits.max_query_cost
        self.cost = query_cost(
            execution.schema._schema, document, execution.operation_name, execution.variables
        )
        if self.cost > self.limit:
            execution.result = ExecutionResult(
                data=None,
                errors=[
                    GraphQLError(
                        f"this query would cost {self.cost}, over the limit of {self.limit}; "
                        "ask for fewer items",
                        extensions={"code": "QUERY_TOO_COSTLY", "cost": self.cost},
                    )
                ],
            )
            yield
            return
        auth = context.auth
        principal = auth.principal
        key = key_for(
            user_id=principal.user_id if principal else None,
            api_key_id=principal.api_key_id if principal else None,
            address=auth.client_address,
        )
        budget = Budget(limits.rate_limit_requests, limits.rate_limit_cost)
        now = clock.now()
        self.usage = await spend(key, self.cost, budget, now)
        if not self.usage.allowed:
            metrics.RATE_LIMITED.labels("request_budget").inc()
            retry = self.usage.retry_after_seconds(now)
            context.refuse_with(429, {"Retry-After": str(retry)})
            execution.result = ExecutionResult(
                data=None,
                errors=[
                    GraphQLError(
                        "too many requests; wait before trying again",
                        extensions={"code": "RATE_LIMITED", "retryAfterSeconds": retry},
                    )
                ],
            )
        yield

    def get_results(self) -> dict[str, Any]:
        results: dict[str, Any] = {}
        if self.cost is not None:
            results["cost"] = {"requested": self.cost, "limit": self.limit}
        if self.usage is not None:
            results["rateLimit"] = {
                "remainingRequests": self.usage.remaining_requests,
                "remainingCost": self.usage.remaining_cost,
                "resetAt": self.usage.window_ends.isoformat(),
            }
        return results
