"""Each subscription payload resolved once per reading view.

Every subscriber of a lead event would otherwise run the same selection over the same
lead: 50 subscribers, 50 executions. Two subscribers whose subscriptions are the same
document with the same variables, and whose reading views of the lead are equal
(:func:`compliance.scopes.reading_view`: row scope, role, relation to the lead,
declared purpose, break-glass grant), are shown the same payload, so the first of them
to reach an event executes it on the general executor, with its own context, exactly as a
lone subscriber would; the others take that result and a copy of its access record
(:meth:`RequestAccess.copied`), from which each one's own ``lead.read`` event and masked-
value report are written under its own name before its payload is sent
(:class:`schema.access.report.AccessReport`).

A document that shows cursors adds who is asking to the view (cursors are bound to the
caller). A result with an unexpected error is not shared (each subscriber's own error
gets its own error id). Everything else runs as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from typing import Any

from graphql import ExecutionResult, FieldNode, InlineFragmentNode, print_ast
from graphql.language import FragmentSpreadNode, SelectionSetNode
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from compliance.scopes import reading_view
from schema.access.state import RequestAccess
from schema.errors_masking import is_expected
from schema.subscriptions import shared

CURSOR_FIELDS = frozenset({"cursor", "endCursor", "startCursor"})


class SharedEvent:
    """What a subscription yields when its payload may be shared: the root value, and the
    lead it is about (None: a payload about no lead, such as a resync)."""

    __slots__ = ("event_id", "subject")

    def __init__(self, event_id: str, subject: Any) -> None:
        self.event_id = event_id
        self.subject = subject


class SharedPayloadExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, answering a subscription event from the payload another
    subscriber with the same document and reading view has just resolved."""

    _document_key: tuple[Hashable, bool] | None = None

    def build_per_event_executor(self, payload: Any) -> Any:
        self._document_once()  # once per subscription: each event's copy carries it
        return super().build_per_event_executor(payload)

    def execute_operation(self, serially: bool | None = None) -> Any:
        root = self.root_value
        shares = getattr(root, "shares", None)
        if not isinstance(shares, SharedEvent) or shares.subject is None:
            return super().execute_operation(serially)
        return self._shared(shares, serially)

    def _key(self, shares: SharedEvent) -> Hashable:
        context = self.context_value
        principal = context.principal
        view = reading_view(principal, shares.subject)
        document, shows_cursors = self._document_once()
        who = principal.cursor_binding if shows_cursors else None
        return ("payload", shares.event_id, document, view, who)

    def _document_once(self) -> tuple[Hashable, bool]:
        if self._document_key is None:
            self._document_key = self._document()
        return self._document_key

    def _document(self) -> tuple[Hashable, bool]:
        defined = self.fragment_definitions
        fragments = tuple(sorted((name, print_ast(node)) for name, node in defined.items()))
        variables = repr(sorted(self.variable_values.coerced.items(), key=lambda kv: kv[0]))
        text = print_ast(self.operation)
        cursors = _selects(self.operation.selection_set, defined, CURSOR_FIELDS)
        return (text, fragments, variables), cursors

    async def _shared(self, shares: SharedEvent, serially: bool | None) -> ExecutionResult:
        key = self._key(shares)
        context = self.context_value
        found = shared.payloads.found(key)
        if found is not None:
            answer = await asyncio.shield(found)
            if answer is not None:
                result, access = answer
                vars(context)["access"] = RequestAccess.copied(context.principal, access)
                return ExecutionResult(
                    data=result.data, errors=list(result.errors) if result.errors else None
                )
            return await _resolved(super().execute_operation(serially))
        future = shared.payloads.promise(key)
        try:
            result = await _resolved(super().execute_operation(serially))
        except BaseException:
            future.set_result(None)  # the others resolve it themselves
            raise
        access = vars(context).get("access")
        errors = tuple(result.errors or ())
        if all(is_expected(error) for error in errors) and isinstance(access, RequestAccess):
            future.set_result((ExecutionResult(data=result.data, errors=list(errors)), access))
        else:
            future.set_result(None)
        return result


async def _resolved(result: Any) -> ExecutionResult:
    if isinstance(result, ExecutionResult):
        return result
    answer: ExecutionResult = await result
    return answer


def _selects(
    selections: SelectionSetNode | None, fragments: dict[str, Any], names: frozenset[str]
) -> bool:
    """Whether the selection (through its fragments) asks for any of ``names``."""
    if selections is None:
        return False
    for node in selections.selections:
        if isinstance(node, FieldNode):
            if node.name.value in names or _selects(node.selection_set, fragments, names):
                return True
        elif isinstance(node, InlineFragmentNode):
            if _selects(node.selection_set, fragments, names):
                return True
        elif isinstance(node, FragmentSpreadNode):
            fragment = fragments.get(node.name.value)
            if fragment is not None and _selects(fragment.selection_set, fragments, names):
                return True
    return False
