"""A query without the root fields its caller may not use.

A signed-in caller's query that names a root field their role (or API key) may not use is
still answered: the denied fields are taken out of the document before it executes (so
their resolvers never run), and come back as ``null`` with a ``FORBIDDEN`` error at their
path, as a denied nested field does. Fragments spread at the root are inlined for this,
so the fragment definitions themselves are never changed."""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
)


@dataclass(frozen=True)
class Trimmed:
    """The document left to execute (``None``: nothing is left), every root response key
    in the order the query asked for them, and an error for each denied one."""

    document: DocumentNode | None
    keys: list[str]
    errors: list[GraphQLError]

    def merged(self, data: dict[str, object] | None) -> dict[str, object]:
        """The executed answer with a ``null`` for each denied key, in query order (a key
        the answer lacks and that was not denied, e.g. skipped, stays out)."""
        answered = data or {}
        denied = {str(error.path[0]) for error in self.errors if error.path}
        ordered = {k: answered.get(k) for k in self.keys if k in answered or k in denied}
        ordered.update((k, v) for k, v in answered.items() if k not in ordered)
        return ordered


def without_root_fields(
    document: DocumentNode,
    operation: OperationDefinitionNode,
    denied: frozenset[str],
    message: str,
) -> Trimmed:
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    keys: list[str] = []
    errors: list[GraphQLError] = []
    kept = _trim(operation.selection_set, fragments, denied, message, keys, errors, set())
    if not kept.selections:
        return Trimmed(None, keys, errors)
    trimmed = OperationDefinitionNode(
        operation=operation.operation,
        name=operation.name,
        variable_definitions=operation.variable_definitions,
        directives=operation.directives,
        selection_set=kept,
    )
    definitions = [trimmed if d is operation else d for d in document.definitions]
    return Trimmed(DocumentNode(definitions=tuple(definitions)), keys, errors)


def _trim(
    selection_set: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    denied: frozenset[str],
    message: str,
    keys: list[str],
    errors: list[GraphQLError],
    seen: set[str],
) -> SelectionSetNode:
    kept: list[SelectionNode] = []
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            key = selection.alias.value if selection.alias else selection.name.value
            if key not in keys:
                keys.append(key)
            if selection.name.value in denied:
                if all(key not in (error.path or ()) for error in errors):
                    errors.append(_denied(selection, key, f"{message}: {selection.name.value}"))
            else:
                kept.append(selection)
            continue
        if isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is None or selection.name.value in seen:
                continue
            inner, condition = fragment.selection_set, fragment.type_condition or None
            seen = seen | {selection.name.value}
        elif isinstance(selection, InlineFragmentNode):
            inner = selection.selection_set
            condition = selection.type_condition
        else:  # pragma: no cover - the three kinds of selection
            continue
        trimmed = _trim(inner, fragments, denied, message, keys, errors, seen)
        if trimmed.selections:
            kept.append(
                InlineFragmentNode(
                    type_condition=condition,
                    directives=selection.directives,
                    selection_set=trimmed,
                )
            )
    return SelectionSetNode(selections=tuple(kept))


def _denied(node: FieldNode, key: str, message: str) -> GraphQLError:
    return GraphQLError(message, nodes=[node], path=[key], extensions={"code": "FORBIDDEN"})


def path_order(error: GraphQLError) -> list[str | int]:
    """Errors in the order of their paths (document-free errors first): the same request
    lists its errors in the same order whichever executor answered it. Paths compare as
    they are: at any depth, siblings are all list indexes or all keys."""
    return error.path or []
