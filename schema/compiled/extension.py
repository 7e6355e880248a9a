"""The schema extension that answers covered reads with their compiled plan.

It runs inside the authentication gate, the request budget and the access report: a
refused request never reaches it, and the read it answers is recorded exactly as the
general executor's would be. A request it cannot answer runs on the general executor with
a fresh access record, as if the compiled path had not been tried.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import AsyncIterator

from graphql import DocumentNode, GraphQLSchema
from strawberry.extensions import SchemaExtension

from schema.compiled.complete import Fallback
from schema.compiled.plan import Plan, compile_plan
from schema.compiled.run import execute

log = logging.getLogger("leadvault.compiled")


class PlanCache:
    """Compiled plans (or the finding that there is none) per (query text, operation
    name), least recently used dropped first."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._plans: OrderedDict[tuple[str, str | None], Plan | None] = OrderedDict()
        self.answered = 0
        """Requests the compiled path answered."""
        self.fell_back = 0
        """Requests it handed to the general executor after trying."""

    def get(
        self,
        schema: GraphQLSchema,
        query: str,
        document: DocumentNode,
        operation_name: str | None,
    ) -> Plan | None:
        key = (query, operation_name)
        if key in self._plans:
            self._plans.move_to_end(key)
            return self._plans[key]
        plan = compile_plan(schema, document, operation_name)
        self._plans[key] = plan
        if len(self._plans) > self.maxsize:
            self._plans.popitem(last=False)
        return plan


class CompiledReads(SchemaExtension):
    def __init__(self, *, plans: PlanCache) -> None:
        self.plans = plans

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        document = execution.graphql_document
        if execution.result is None and document is not None and execution.query:
            plan = self.plans.get(
                execution.schema._schema, execution.query, document, execution.operation_name
            )
            if plan is not None:
                context = execution.context
                try:
                    execution.result = await execute(
                        execution.schema, plan, context, execution.variables
                    )
                    self.plans.answered += 1
                except Fallback:
                    self.plans.fell_back += 1
                    log.debug("compiled read fell back to the general executor")
                    for name in ("access", "loaders"):
                        vars(context).pop(name, None)
        yield
