"""Building the response of a plan directly from a loaded batch.

Each governed value is decided through the request's batch decision function and noted in
the request's access record (the same record the field-access extension feeds, which
becomes the ``lead.read`` event); a denied field is null with a ``FORBIDDEN`` error at its
path, a masked value is masked and its path listed, exactly as on the general executor.
Leaf values are serialised by the schema's own scalar and enum types.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
)

from compliance.access.rules import Access
from crypto.vault import ERASED
from schema.access.extension import DENIED_MESSAGE
from schema.compiled.load import Batch, Fallback
from schema.compiled.plan import FieldPlan, Kind, ObjectPlan

Path = tuple[str | int, ...]


class Builder:
    def __init__(self, batch: Batch, errors: list[GraphQLError]) -> None:
        self.batch = batch
        self.access = batch.access
        self.errors = errors

    def field(self, plan: FieldPlan, value: Any, path: Path) -> Any:
        """A field's completed value: lists walked, objects built, leaves serialised."""
        assert plan.type is not None
        return self._complete(plan, plan.type, value, path)

    def _complete(self, plan: FieldPlan, type_: GraphQLOutputType, value: Any, path: Path) -> Any:
        if isinstance(type_, GraphQLNonNull):
            done = self._complete(plan, type_.of_type, value, path)
            if done is None:
                raise Fallback  # a null in a non-null position: the general executor's case
            return done
        if value is None:
            return None
        if isinstance(type_, GraphQLList):
            return [
                self._complete(plan, type_.of_type, item, (*path, i))
                for i, item in enumerate(value)
            ]
        if isinstance(type_, GraphQLObjectType):
            assert plan.child is not None
            return self.object(plan.child, value, path)
        serialised = type_.serialize(value)  # type: ignore[union-attr]
        if serialised is None:
            raise Fallback
        return serialised

    def object(self, plan: ObjectPlan, source: Any, path: Path) -> dict[str, Any]:
        batch = self.batch
        lead = plan.type_name == "Lead"
        subject = batch.subject(source) if lead else None
        out: dict[str, Any] = {}
        for field in plan.fields:
            key = field.key
            kind = field.kind
            if kind == Kind.TYPENAME:
                out[key] = plan.type_name
                continue
            decision = None
            if field.policy is not None:
                if subject is None:
                    subject = source.access_subject()
                decision = batch.decide(field.policy, subject)
                self.access.note(subject, field.name, decision)
                if decision.access is Access.DENY:
                    if isinstance(field.type, GraphQLNonNull):
                        raise Fallback
                    self.errors.append(
                        GraphQLError(
                            DENIED_MESSAGE,
                            nodes=list(field.nodes),
                            path=[*path, key],
                            extensions={"code": "FORBIDDEN"},
                        )
                    )
                    out[key] = None
                    continue
            if kind == Kind.ATTRIBUTE:
                value = getattr(source, field.attribute)
            elif kind == Kind.RESOLVER:
                assert field.getter is not None
                value = field.getter(source)
            else:
                assert field.getter is not None
                value = field.getter(source, batch, field)
            if (
                decision is not None
                and decision.access is Access.MASK
                and isinstance(value, str)
                and value != ERASED
            ):
                value = self.access.maskers.apply(decision.mask or "", value)
                self.access.note_masked([*path, key], decision.mask or "")
            out[key] = self._complete(field, field.type, value, (*path, key))  # type: ignore[arg-type]
        return out
