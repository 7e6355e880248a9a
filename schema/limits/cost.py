"""The cost of a query, computed from the list sizes it asks for, before anything runs.

Every object a query asks for costs 1, once per item of each list it sits in; scalars
are free. A field with a ``first`` argument sets the size of the list beneath it (a
connection's ``edges``); any other list of objects counts as :data:`DEFAULT_LIST_SIZE`
items. So
``leads(first: 100) { edges { node { activities(first: 10) { edges { node { id } } } } } }``
costs 1 + 100 × (1 + 1 + 1 + 10 × (1 + 1)) = 2,301: every object in every list counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLCompositeType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
    is_list_type,
    is_object_type,
)
from graphql.utilities import get_operation_ast

DEFAULT_LIST_SIZE = 20
SIZE_ARGUMENT = "first"


class _Walker:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def selection_cost(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLCompositeType,
        pending: int | None,
        seen: frozenset[str],
    ) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field_cost(selection, parent, pending, seen)
            elif isinstance(selection, InlineFragmentNode):
                target = parent
                if selection.type_condition is not None:
                    found = self.schema.get_type(selection.type_condition.name.value)
                    target = found if found is not None else parent  # type: ignore[assignment]
                total += self.selection_cost(selection.selection_set, target, pending, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:
                    continue
                found = self.schema.get_type(fragment.type_condition.name.value)
                target = found if found is not None else parent  # type: ignore[assignment]
                total += self.selection_cost(fragment.selection_set, target, pending, seen | {name})
        return total

    def size_requested(self, node: FieldNode, default: object) -> object:
        for argument in node.arguments or ():
            if argument.name.value != SIZE_ARGUMENT:
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, VariableNode):
                return self.variables.get(value.name.value, default)
            return default
        return default

    def field_cost(
        self,
        node: FieldNode,
        parent: GraphQLCompositeType,
        pending: int | None,
        seen: frozenset[str],
    ) -> int:
        if not is_object_type(parent):
            return 0
        definition = parent.fields.get(node.name.value)
        if definition is None:
            return 0
        named = get_named_type(definition.type)
        if is_leaf_type(named) or node.selection_set is None:
            return 0
        size = 1
        if is_list_type(get_nullable_type(definition.type)):
            size = pending if pending is not None else DEFAULT_LIST_SIZE
        child_pending = None
        if SIZE_ARGUMENT in definition.args:
            requested = self.size_requested(node, definition.args[SIZE_ARGUMENT].default_value)
            child_pending = requested if isinstance(requested, int) and requested > 0 else 1
        children = self.selection_cost(node.selection_set, named, child_pending, seen)
        return size * (1 + children)


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> int:
    operation = get_operation_ast(document, operation_name)
    if not isinstance(operation, OperationDefinitionNode):
        return 0
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    walker = _Walker(schema, fragments, variables or {})
    return walker.selection_cost(operation.selection_set, root, None, frozenset())
