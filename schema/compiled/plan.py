"""Compiling a query document into a plan of what it selects, once per (document,
operation name).

A plan exists only for a query whose root fields are ``leads``, ``lead`` and ``__typename``,
without directives, over the types and fields listed here; anything else compiles to
``None`` and runs on the general executor. Field selections are merged per response key as
GraphQL does (aliases, inline fragments and named fragments on the same type), in the
order the response lists them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    get_operation_ast,
    is_leaf_type,
)
from strawberry.types.field import StrawberryField

from compliance.access.policy import field_policy
from compliance.access.rules import FieldPolicy
from schema.access.extension import FieldAccess
from schema.compiled.complete import Completer, completer
from schema.compiled.fields import LEAD_FIELDS, PROTECTED_VALUES, ROOT_FIELDS, SPECIAL_VALUES

Getter = Callable[..., Any]
Reader = Callable[[Any, Any], Any]
"""(source, batch) → the field's value, as its resolver would return it."""

GENERIC_TYPES = frozenset(
    {
        "LeadConnection",
        "LeadEdge",
        "PageInfo",
        "StaffMember",
        "Team",
        "Campaign",
        "Utm",
        "Bant",
        "ActivityConnection",
        "ActivityEdge",
        "Activity",
        "StageChange",
        "FollowUpTask",
        "ConsentStatus",
        "ConsentRecord",
        "ScoreContribution",
        "ScoreHistoryEntry",
    }
)
"""Types whose objects are built from their rows as the general executor builds them; each
field is read as an attribute, through a plain synchronous resolver, or (for governed and
counted fields) through the getters of :mod:`schema.compiled.fields`."""


class Kind:
    TYPENAME = "typename"
    ATTRIBUTE = "attribute"
    RESOLVER = "resolver"
    GETTER = "getter"
    LEAD = "lead"
    ROOT = "root"


@dataclass(slots=True)
class FieldPlan:
    key: str
    """The response key (the alias, or the field's name)."""
    name: str
    nodes: tuple[FieldNode, ...]
    kind: str
    type: GraphQLOutputType | None = None
    gql_field: GraphQLField | None = None
    child: ObjectPlan | None = None
    policy: FieldPolicy | None = None
    complete: Completer = lambda builder, value, path: value
    """Lists walked, objects built, leaves serialised by the schema's own types."""
    read: Reader = lambda source, batch: None
    attribute: str = ""
    """For a field read as an attribute: the attribute's name."""
    located: Any = None
    """Where the field sits in the document, as its errors give it (worked out once)."""


@dataclass(slots=True)
class ObjectPlan:
    type_name: str
    fields: tuple[FieldPlan, ...]
    build: Any = None
    """The generated function that builds this object's response (see
    :mod:`schema.compiled.codegen`), made on first use."""

    def walk(self) -> Iterable[tuple[ObjectPlan, FieldPlan]]:
        """Every (object, field) pair in this plan, depth first."""
        for plan in self.fields:
            yield self, plan
            if plan.child is not None:
                yield from plan.child.walk()

    def shows_cursors(self) -> bool:
        """Whether this connection's response shows a cursor (an edge's or the end one)."""
        for plan in self.fields:
            if plan.child is None:
                continue
            shown = {f.name for f in plan.child.fields}
            if (plan.name == "edges" and "cursor" in shown) or (
                plan.name == "pageInfo" and "endCursor" in shown
            ):
                return True
        return False

    def objects(self, type_name: str) -> list[ObjectPlan]:
        found = [self] if self.type_name == type_name else []
        for plan in self.fields:
            if plan.child is not None:
                found.extend(plan.child.objects(type_name))
        return found


@dataclass(frozen=True, slots=True)
class Plan:
    operation: OperationDefinitionNode
    root: ObjectPlan
    lead_columns: frozenset[str] = field(default_factory=frozenset)
    """Every lead column some field of the plan reads."""


class _NotCompilable(Exception):
    pass


def compile_plan(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
) -> Plan | None:
    """The plan of this operation, or ``None`` when the general executor must run it."""
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation is not OperationType.QUERY:
        return None
    if operation.directives:
        return None
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    query_type = schema.query_type
    if query_type is None:
        return None
    try:
        root = _object_plan(query_type, [operation.selection_set], fragments)
    except _NotCompilable:
        return None
    if not any(p.kind == Kind.ROOT for p in root.fields):
        return None
    columns: set[str] = set()
    for lead in root.objects("Lead"):
        for plan in lead.fields:
            if plan.kind == Kind.LEAD:
                columns.update(LEAD_FIELDS[plan.name].columns)
    return Plan(operation=operation, root=root, lead_columns=frozenset(columns))


def _collect(
    type_name: str,
    selection_sets: Iterable[SelectionSetNode],
    fragments: dict[str, FragmentDefinitionNode],
) -> dict[str, list[FieldNode]]:
    fields: dict[str, list[FieldNode]] = {}
    used: set[str] = set()

    def visit(selection_set: SelectionSetNode) -> None:
        for selection in selection_set.selections:
            if selection.directives:
                raise _NotCompilable
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                fields.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is not None and condition.name.value != type_name:
                    raise _NotCompilable
                visit(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in used:
                    continue
                used.add(name)
                fragment = fragments.get(name)
                if (
                    fragment is None
                    or fragment.directives
                    or fragment.type_condition.name.value != type_name
                ):
                    raise _NotCompilable
                visit(fragment.selection_set)

    for selection_set in selection_sets:
        visit(selection_set)
    return fields


def _object_plan(
    type_: GraphQLObjectType,
    selection_sets: Iterable[SelectionSetNode],
    fragments: dict[str, FragmentDefinitionNode],
) -> ObjectPlan:
    plans = []
    for key, nodes in _collect(type_.name, selection_sets, fragments).items():
        name = nodes[0].name.value
        if name == "__typename":
            plans.append(
                FieldPlan(
                    key=key,
                    name=name,
                    nodes=tuple(nodes),
                    kind=Kind.TYPENAME,
                    read=_constant(type_.name),
                )
            )
            continue
        gql_field = type_.fields.get(name)
        if gql_field is None:
            raise _NotCompilable
        named = get_named_type(gql_field.type)
        child = None
        if isinstance(named, GraphQLObjectType):
            child = _object_plan(
                named, [n.selection_set for n in nodes if n.selection_set], fragments
            )
        elif not is_leaf_type(named):
            raise _NotCompilable
        plans.append(_field_plan(type_.name, key, tuple(nodes), gql_field, child))
    return ObjectPlan(type_name=type_.name, fields=tuple(plans))


def _field_plan(
    type_name: str,
    key: str,
    nodes: tuple[FieldNode, ...],
    gql_field: GraphQLField,
    child: ObjectPlan | None,
) -> FieldPlan:
    name = nodes[0].name.value
    definition = gql_field.extensions.get("strawberry-definition")
    if not isinstance(definition, StrawberryField):
        raise _NotCompilable
    policy = None
    if any(isinstance(e, FieldAccess) for e in definition.extensions):
        policy = field_policy(type_name, name)
        if policy is None:
            raise _NotCompilable
    common: dict[str, Any] = {
        "key": key,
        "name": name,
        "nodes": nodes,
        "type": gql_field.type,
        "gql_field": gql_field,
        "child": child,
        "policy": policy,
        "complete": completer(gql_field.type, child),
    }
    if type_name == "Query":
        if name not in ROOT_FIELDS:
            raise _NotCompilable
        return FieldPlan(kind=Kind.ROOT, **common)
    if type_name == "Lead":
        if name not in LEAD_FIELDS:
            raise _NotCompilable
        return _with_getter(FieldPlan(kind=Kind.LEAD, **common), LEAD_FIELDS[name].value)
    if type_name not in GENERIC_TYPES or gql_field.args:
        raise _NotCompilable
    special = PROTECTED_VALUES.get((type_name, name)) if policy else None
    special = special or SPECIAL_VALUES.get((type_name, name))
    if special is not None:
        return _with_getter(FieldPlan(kind=Kind.GETTER, **common), special)
    if policy is not None:
        raise _NotCompilable
    resolver = definition.base_resolver
    if resolver is None:
        attribute = definition.python_name
        return FieldPlan(
            kind=Kind.ATTRIBUTE,
            attribute=attribute,
            read=lambda source, batch: getattr(source, attribute),
            **common,
        )
    plain = (
        not resolver.is_async
        and resolver.info_parameter is None
        and not resolver.arguments
        and resolver.self_parameter is not None
    )
    if not plain:
        raise _NotCompilable
    func: Callable[[Any], Any] = resolver.wrapped_func  # type: ignore[assignment]
    return FieldPlan(kind=Kind.RESOLVER, read=lambda source, batch: func(source), **common)


def _constant(value: str) -> Reader:
    return lambda source, batch: value


def _with_getter(plan: FieldPlan, getter: Getter) -> FieldPlan:
    plan.read = lambda source, batch: getter(source, batch, plan)
    return plan
