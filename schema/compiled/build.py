"""Building the response of a plan directly from a loaded batch.

Each governed value is decided through the request's batch decision function and noted in
the request's access record (the same record the field-access extension feeds, which
becomes the ``lead.read`` event); a denied field is null with a ``FORBIDDEN`` error at its
path, a masked value is masked and its path listed, exactly as on the general executor.
Leaf values are serialised by the schema's own scalar and enum types.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, GraphQLNonNull

from compliance.access.decide import Decision
from crypto.vault import ERASED
from schema.access.extension import DENIED_MESSAGE
from schema.compiled.codegen import build_function
from schema.compiled.complete import Fallback, Path, path_list
from schema.compiled.load import Batch
from schema.compiled.plan import FieldPlan, ObjectPlan


class Builder:
    def __init__(self, batch: Batch, errors: list[GraphQLError]) -> None:
        self.batch = batch
        self.access = batch.access
        self.errors = errors

    def field(self, plan: FieldPlan, value: Any, path: Path) -> Any:
        """A field's completed value: lists walked, objects built, leaves serialised."""
        return plan.complete(self, value, path)

    def object(self, plan: ObjectPlan, source: Any, path: Path) -> dict[str, Any]:
        return build_function(plan)(self, source, path)

    def deny(self, field: FieldPlan, path: Path) -> None:
        """A denied field: null, with a ``FORBIDDEN`` error at its path. Where the field
        sits in the document is worked out once per plan, not once per error."""
        if isinstance(field.type, GraphQLNonNull):
            raise Fallback  # a denied non-null field nulls its parent: the general executor's
        if field.located is None:
            located = GraphQLError(DENIED_MESSAGE, nodes=list(field.nodes))
            field.located = (located.nodes, located.source, located.positions, located.locations)
        error = GraphQLError(
            DENIED_MESSAGE, path=path_list((path, field.key)), extensions={"code": "FORBIDDEN"}
        )
        error.nodes, error.source, error.positions, error.locations = field.located
        self.errors.append(error)

    def mask(self, decision: Decision, value: Any, path: Path) -> Any:
        """A masked value (the erased marker stays as it is), its path listed."""
        if not isinstance(value, str) or value == ERASED:
            return value
        self.access.note_masked(path_list(path), decision.mask or "")
        return self.access.maskers.apply(decision.mask or "", value)
