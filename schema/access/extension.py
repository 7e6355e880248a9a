"""The field-access extension: the one place the access policy is enforced.

Every field the policy lists carries this extension (declare such fields with
:func:`protected`). For each value it asks the policy, with the row the value belongs to:
reveal (the resolver runs, decrypting if need be), mask (the resolver runs and the value is
masked, and its path listed in the response's ``extensions.access.masked``), or deny (the
resolver never runs; the field is null and the response carries a ``FORBIDDEN`` error with
the field's path). Resolvers never look at roles.
"""

from __future__ import annotations

from typing import Any, Protocol

import strawberry
from graphql import GraphQLError
from strawberry.extensions import FieldExtension
from strawberry.extensions.field_extension import AsyncExtensionResolver

from compliance.access.decide import Subject
from compliance.access.policy import field_policy
from compliance.access.rules import Access, FieldPolicy
from crypto.vault import ERASED

DENIED_MESSAGE = "you may not see this field"


class HasSubject(Protocol):
    def access_subject(self) -> Subject: ...


def forbidden() -> GraphQLError:
    return GraphQLError(DENIED_MESSAGE, extensions={"code": "FORBIDDEN"})


class FieldAccess(FieldExtension):
    def __init__(self) -> None:
        self._policies: dict[str, FieldPolicy] = {}

    def _policy(self, type_name: str, field_name: str) -> FieldPolicy:
        found = self._policies.get(type_name)
        if found is None:
            found = field_policy(type_name, field_name)
            if found is None:
                raise LookupError(f"{type_name}.{field_name} is protected but not in the policy")
            self._policies[type_name] = found
        return found

    async def resolve_async(
        self, next_: AsyncExtensionResolver, source: Any, info: strawberry.Info, **kwargs: Any
    ) -> Any:
        policy = self._policy(info._raw_info.parent_type.name, info.field_name)
        access = info.context.access
        subject = source.access_subject()
        decision = await access.decide(policy, subject)
        access.note(subject, info.field_name, decision)
        if decision.access is Access.DENY:
            raise forbidden()
        value = await next_(source, info, **kwargs)
        if decision.access is Access.MASK and isinstance(value, str) and value != ERASED:
            value = access.maskers.apply(decision.mask or "", value)
            access.note_masked(info.path.as_list(), decision.mask or "")
        return value


def protected(**options: Any) -> Any:
    """``strawberry.field`` for a field the access policy governs."""
    return strawberry.field(extensions=[FieldAccess()], **options)
