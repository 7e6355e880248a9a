"""Which mutations answer with personal data, so their payload's read is recorded in the
mutation's own transaction.

A mutation that returns a lead (``captureLead { lead { email } }``) reveals personal data in
its payload; that read must be recorded like any other. If the read event were written after
the change committed and then failed, the answer could only say "nothing is returned" about
a change that did happen. So for these mutations the change, the read of its payload and the
read's event commit together or not at all (:class:`schema.access.report.AccessReport`).
Other mutations (signing in, managing staff, policy) reveal no lead data and keep their own
shorter transactions.
"""

from __future__ import annotations

from functools import cache

from graphql import (
    FieldNode,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    get_named_type,
    is_interface_type,
    is_object_type,
    is_union_type,
)

from compliance.access.policy import POLICY


def _reaches_personal_data(start: GraphQLNamedType) -> bool:
    seen: set[str] = set()
    pending = [start]
    while pending:
        named = pending.pop()
        if named.name in seen:
            continue
        seen.add(named.name)
        if named.name in POLICY:
            return True
        if is_union_type(named):
            pending.extend(named.types)
        elif is_object_type(named) or is_interface_type(named):
            pending.extend(get_named_type(f.type) for f in named.fields.values())
    return False


@cache
def revealing_mutations(schema: GraphQLSchema) -> frozenset[str]:
    """The mutation fields whose payload can hold a field the access policy governs."""
    mutation: GraphQLObjectType | None = schema.mutation_type
    if mutation is None:
        return frozenset()
    return frozenset(
        name
        for name, field in mutation.fields.items()
        if _reaches_personal_data(get_named_type(field.type))
    )


def selects_revealing_mutation(schema: GraphQLSchema, operation: OperationDefinitionNode) -> bool:
    """Whether ``operation`` (a mutation) selects a field that can answer with personal
    data; a root selection other than a plain field counts as one, to be safe."""
    revealing = revealing_mutations(schema)
    for selection in operation.selection_set.selections:
        if not isinstance(selection, FieldNode) or selection.name.value in revealing:
            return True
    return False
