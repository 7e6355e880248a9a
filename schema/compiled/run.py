"""Executing a plan: the root fields' arguments bound and checked as their resolvers check
them, the page read with projected statements, the batch loaded, the response built."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import ExecutionResult, GraphQLError
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from strawberry.types.arguments import convert_arguments
from strawberry.types.field import StrawberryField

from core.cursors import InvalidCursor
from schema.compiled.build import Builder
from schema.compiled.complete import Fallback
from schema.compiled.load import Batch
from schema.compiled.plan import FieldPlan, Kind, Plan
from schema.context import Context
from schema.leads.queries import find_lead, page_request
from schema.leads.types import LeadConnection, LeadEdge
from schema.pagination import PageInfo


async def execute(
    schema: strawberry.Schema, plan: Plan, context: Context, variables: dict[str, Any] | None
) -> ExecutionResult:
    """The plan's result; raises :class:`Fallback` when the general executor must answer."""
    coerced = get_variable_values(
        schema._schema, plan.operation.variable_definitions or (), variables or {}
    )
    if isinstance(coerced, list):
        raise Fallback
    data: dict[str, Any] = {}
    errors: list[GraphQLError] = []
    for field in plan.root.fields:
        if field.kind == Kind.TYPENAME:
            data[field.key] = plan.root.type_name
            continue
        kwargs = _arguments(schema, field, coerced)
        if field.name == "leads":
            data[field.key] = await _leads(field, plan, context, kwargs, coerced, errors)
        else:
            data[field.key] = await _lead(field, context, kwargs, coerced, errors)
    return ExecutionResult(data=data, errors=errors or None)


def _arguments(
    schema: strawberry.Schema, field: FieldPlan, variables: VariableValues
) -> dict[str, Any]:
    """The resolver's keyword arguments, converted as Strawberry converts them."""
    assert field.gql_field is not None
    definition = field.gql_field.extensions["strawberry-definition"]
    assert isinstance(definition, StrawberryField)
    try:
        raw = get_argument_values(field.gql_field, field.nodes[0], variables)
        return convert_arguments(
            raw,
            definition.arguments,
            scalar_registry=schema.schema_converter.scalar_registry,
            config=schema.config,
        )
    except Exception:
        raise Fallback from None


async def _leads(
    field: FieldPlan,
    plan: Plan,
    context: Context,
    kwargs: dict[str, Any],
    variables: VariableValues,
    errors: list[GraphQLError],
) -> Any:
    first = kwargs.get("first", 20)
    try:
        repository, domain_filter, order = page_request(
            context, first, filter=kwargs.get("filter"), order_by=kwargs.get("order_by")
        )
        assert field.child is not None
        page = await repository.page_rows(
            domain_filter,
            order,
            first,
            kwargs.get("after"),
            plan.lead_columns,
            sealed=field.child.shows_cursors(),
        )
    except (GraphQLError, InvalidCursor):
        raise Fallback from None
    connection = LeadConnection(
        edges=[
            LeadEdge(cursor=c, node=row)  # type: ignore[arg-type]
            for row, c in zip(page.items, page.cursors, strict=True)
        ],
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            end_cursor=page.cursors[-1] if page.cursors else None,
        ),
        _count=lambda: repository.count(domain_filter),
    )
    batch = Batch(context.access, page.items, variables)
    if any(f.name == "totalCount" for f in field.child.fields):
        batch.total = await repository.count(domain_filter)
    return await _built(field, batch, connection, errors)


async def _built(field: FieldPlan, batch: Batch, source: Any, errors: list[GraphQLError]) -> Any:
    """The root field's answer: the batch loaded for the leads under it, then built."""
    assert field.child is not None
    await batch.load(field.child.objects("Lead"))
    return Builder(batch, errors).field(field, source, (None, field.key))


async def _lead(
    field: FieldPlan,
    context: Context,
    kwargs: dict[str, Any],
    variables: VariableValues,
    errors: list[GraphQLError],
) -> Any:
    try:
        row = await find_lead(
            context.principal,
            id=kwargs.get("id"),
            email=kwargs.get("email"),
            phone=kwargs.get("phone"),
        )
    except GraphQLError:
        raise Fallback from None
    if row is None:
        return None
    return await _built(field, Batch(context.access, [row], variables), row, errors)
