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
    SelectionSetNode,
)
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension

from audit.events import Event, Outcome, record
from compliance.access.policy import OPERATION_ROLES
from identity.authenticate import AuthStage
from identity.events import actor_of
from identity.roles import Role
from identity.scopes import ApiScope

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


def denial(
    stage: AuthStage,
    scopes: frozenset[ApiScope],
    fields: set[str],
    role: Role | None = None,
) -> GraphQLError | None:
    fields = fields - {"__typename"}
    if stage is AuthStage.STAFF:
        refused = sorted(
            f for f in fields if f in OPERATION_ROLES and role not in OPERATION_ROLES[f]
        )
        if refused:
            return GraphQLError(
                f"your role may not use: {', '.join(refused)}", extensions={"code": "FORBIDDEN"}
            )
        return None
    if stage is AuthStage.SERVICE:
        refused = sorted(f for f in fields if SCOPED_OPERATIONS.get(f) not in scopes)
        if refused:
            return GraphQLError(
                f"this API key's scopes do not allow: {', '.join(refused)}",
                extensions={"code": "FORBIDDEN"},
            )
        return None
    if fields - ALLOWED_BEFORE_SIGN_IN[stage]:
        code, message = _DENIALS[stage]
        return GraphQLError(message, extensions={"code": code})
    return None


class AuthenticationGate(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        auth = execution.context.auth
        document = execution.graphql_document
        if document is not None:
            principal = auth.principal
            scopes = principal.scopes if principal is not None else frozenset()
            role = principal.role if principal is not None else None
            fields = root_fields(document, execution.operation_name)
            refused = denial(auth.stage, scopes, fields, role)
            if refused is not None:
                execution.result = ExecutionResult(data=None, errors=[refused])
                if principal is not None:
                    await record(
                        Event(
                            action="access.operation.denied",
                            outcome=Outcome.DENIED,
                            actor=actor_of(principal),
                            fields_denied=tuple(sorted(fields - {"__typename"})),
                            purpose=principal.purpose,
                        )
                    )
        yield
