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

from compliance.access.rules import Access
from crypto.vault import ERASED
from schema.access.extension import DENIED_MESSAGE
from schema.compiled.load import Batch
from schema.compiled.plan import Fallback, FieldPlan, ObjectPlan, Path, path_list


class Builder:
    def __init__(self, batch: Batch, errors: list[GraphQLError]) -> None:
        self.batch = batch
        self.access = batch.access
        self.errors = errors

    def field(self, plan: FieldPlan, value: Any, path: Path) -> Any:
        """A field's completed value: lists walked, objects built, leaves serialised."""
        return plan.complete(self, value, path)

    def object(self, plan: ObjectPlan, source: Any, path: Path) -> dict[str, Any]:
        batch = self.batch
        subject = None
        out: dict[str, Any] = {}
        for field in plan.fields:
            key = field.key
            policy = field.policy
            if policy is None:
                out[key] = field.complete(self, field.read(source, batch), (path, key))
                continue
            if subject is None:
                is_lead = plan.type_name == "Lead"
                subject = batch.subject(source) if is_lead else source.access_subject()
            decision = batch.decide(policy, subject)
            self.access.note(subject, field.name, decision)
            if decision.access is Access.DENY:
                if isinstance(field.type, GraphQLNonNull):
                    raise Fallback
                self.errors.append(
                    GraphQLError(
                        DENIED_MESSAGE,
                        nodes=list(field.nodes),
                        path=path_list((path, key)),
                        extensions={"code": "FORBIDDEN"},
                    )
                )
                out[key] = None
                continue
            value = field.read(source, batch)
            if decision.access is Access.MASK and isinstance(value, str) and value != ERASED:
                value = self.access.maskers.apply(decision.mask or "", value)
                self.access.note_masked(path_list((path, key)), decision.mask or "")
            out[key] = field.complete(self, value, (path, key))
        return out
