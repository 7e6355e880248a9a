"""The authentication gate: what a request may ask for before anything resolves.

Anonymous callers may only sign in or start an enrolment; a session that has passed only
the password step may only finish MFA (or log out); an enrolling session may only confirm
its enrolment; an API key may only use the operations its scopes name; a member of staff
may only use the operations the access policy opens to their role. Everything else is
refused before execution, with one error per case, so a resolver never runs for a caller
who may not call it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationType,
    SelectionSetNode,
    print_ast,
)
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension

from audit.events import Event, Outcome, record
from compliance.access.policy import OPERATION_ROLES
from identity.authenticate import AuthStage
from identity.events import actor_of
from identity.principal import Principal
from identity.roles import Role
from identity.scopes import ApiScope
from schema.denied_roots import path_order, without_root_fields

ALLOWED_BEFORE_SIGN_IN: dict[AuthStage, frozenset[str]] = {
    AuthStage.ANONYMOUS: frozenset(
        {
            "login",
            "beginMfaEnrolment",
            "purposes",
            "subjectConsent",
            "setSubjectConsent",
            "confirmConsent",
        }
    ),
    AuthStage.MFA_PENDING: frozenset({"verifyMfa", "logout"}),
    AuthStage.ENROLLING: frozenset({"confirmMfaEnrolment", "logout"}),
}
SCOPED_OPERATIONS: dict[str, ApiScope] = {
    "createLead": ApiScope.LEADS_CAPTURE,
    "captureLead": ApiScope.LEADS_CAPTURE,
    "purposes": ApiScope.LEADS_CAPTURE,
    "recordActivity": ApiScope.ACTIVITIES_RECORD,
}
_DENIALS = {
    AuthStage.ANONYMOUS: ("UNAUTHENTICATED", "sign in first"),
    AuthStage.MFA_PENDING: ("MFA_REQUIRED", "finish signing in with your MFA code first"),
    AuthStage.ENROLLING: ("MFA_ENROLMENT_REQUIRED", "confirm your MFA enrolment first"),
}


def root_fields(document: DocumentNode, operation_name: str | None) -> set[str]:
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return set()
    fragments = {
        definition.name.value: definition.selection_set
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    return set(_field_names(operation.selection_set, fragments, set()))


def _field_names(
    selection_set: SelectionSetNode, fragments: dict[str, SelectionSetNode], seen: set[str]
) -> Iterator[str]:
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection.name.value
        elif isinstance(selection, InlineFragmentNode):
            yield from _field_names(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in fragments and name not in seen:
                seen.add(name)
                yield from _field_names(fragments[name], fragments, seen)


def refused_fields(
    stage: AuthStage, scopes: frozenset[ApiScope], fields: set[str], role: Role | None = None
) -> list[str]:
    """The root fields a signed-in member of staff (by role) or API key (by scope) may not
    use; empty for anyone else."""
    fields = fields - {"__typename"}
    if stage is AuthStage.STAFF:
        return sorted(f for f in fields if f in OPERATION_ROLES and role not in OPERATION_ROLES[f])
    if stage is AuthStage.SERVICE:
        return sorted(f for f in fields if SCOPED_OPERATIONS.get(f) not in scopes)
    return []


def _refusal_prefix(stage: AuthStage) -> str:
    if stage is AuthStage.STAFF:
        return "your role may not use"
    return "this API key's scopes do not allow"


def denial(
    stage: AuthStage,
    scopes: frozenset[ApiScope],
    fields: set[str],
    role: Role | None = None,
) -> GraphQLError | None:
    """The one error that refuses a whole operation, or ``None``."""
    if stage in (AuthStage.STAFF, AuthStage.SERVICE):
        refused = refused_fields(stage, scopes, fields, role)
        if refused:
            return GraphQLError(
                f"{_refusal_prefix(stage)}: {', '.join(refused)}",
                extensions={"code": "FORBIDDEN"},
            )
        return None
    if fields - {"__typename"} - ALLOWED_BEFORE_SIGN_IN[stage]:
        code, message = _DENIALS[stage]
        return GraphQLError(message, extensions={"code": code})
    return None


class AuthenticationGate(SchemaExtension):
    """Refuses what the caller may not ask before anything resolves. A signed-in caller's
    query loses only its denied root fields (:mod:`schema.denied_roots`); a mutation with one,
    and anything an unauthenticated caller may not do, is refused whole."""

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        auth = execution.context.auth
        document = execution.graphql_document
        if document is None:
            yield
            return
        principal = auth.principal
        scopes = principal.scopes if principal is not None else frozenset()
        role = principal.role if principal is not None else None
        fields = root_fields(document, execution.operation_name)
        operation = get_operation_ast(document, execution.operation_name)
        refused = refused_fields(auth.stage, scopes, fields, role)
        if refused and operation is not None and operation.operation is OperationType.QUERY:
            await self._record_denied(principal, refused)
            trimmed = without_root_fields(
                document, operation, frozenset(refused), _refusal_prefix(auth.stage)
            )
            if trimmed.document is None:
                execution.result = ExecutionResult(data=trimmed.merged(None), errors=[])
            else:
                execution.graphql_document = trimmed.document
                execution.query = print_ast(trimmed.document)  # its own compiled plan
            yield
            result = execution.result
            if result is not None:
                result.data = trimmed.merged(result.data)
                result.errors = sorted([*(result.errors or []), *trimmed.errors], key=path_order)
            return
        whole = denial(auth.stage, scopes, fields, role)
        if whole is not None:
            execution.result = ExecutionResult(data=None, errors=[whole])
            await self._record_denied(principal, sorted(fields - {"__typename"}))
        yield

    @staticmethod
    async def _record_denied(principal: Principal | None, fields: list[str]) -> None:
        if principal is None:
            return
        await record(
            Event(
                action="access.operation.denied",
                outcome=Outcome.DENIED,
                actor=actor_of(principal),
                fields_denied=tuple(fields),
                purpose=principal.purpose,
            )
        )
