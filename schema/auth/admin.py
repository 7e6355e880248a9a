"""Administering staff accounts and API keys (administrators only)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import strawberry

from core.errors import NotFound as DomainNotFound
from core.errors import ValidationFailed
from identity import accounts, key_admin
from identity import errors as domain
from schema.auth.errors import Forbidden, LastAdministrator, StepUpRequired, failure_of
from schema.auth.types import ApiKey, StaffAccount
from schema.context import Context
from schema.enums import ApiScope, StaffRole
from schema.errors import NotFound, ValidationErrors
from schema.ids import parse_int_id, parse_uuid


@strawberry.input
class StaffUserInput:
    email: str
    display_name: str
    role: StaffRole
    team_id: strawberry.ID | None = None


@strawberry.input
class ApiKeyInput:
    name: str
    scopes: list[ApiScope]
    expires_at: datetime | None = None


@strawberry.type(description="Give the enrolment code to its owner; it is shown only once.")
class EnrolmentIssued:
    account: StaffAccount
    enrolment_code: str
    enrolment_expires_at: datetime


@strawberry.type
class StaffAccountPayload:
    account: StaffAccount


@strawberry.type
class AccountUnlocked:
    account: StaffAccount
    was_locked: bool


@strawberry.type
class StaffSessionsEnded:
    count: int


@strawberry.type(description="Give the token to the service now; it is never shown again.")
class ApiKeyCreated:
    api_key: ApiKey
    token: str


@strawberry.type
class ApiKeyPayload:
    api_key: ApiKey


CreateStaffUserResult = Annotated[
    EnrolmentIssued | ValidationErrors | NotFound | Forbidden,
    strawberry.union("CreateStaffUserResult"),
]
SetStaffUserActiveResult = Annotated[
    StaffAccountPayload | NotFound | Forbidden | LastAdministrator,
    strawberry.union("SetStaffUserActiveResult"),
]
ResetStaffMfaResult = Annotated[
    EnrolmentIssued | NotFound | Forbidden | StepUpRequired,
    strawberry.union("ResetStaffMfaResult"),
]
UnlockStaffUserResult = Annotated[
    AccountUnlocked | NotFound | Forbidden, strawberry.union("UnlockStaffUserResult")
]
RevokeStaffSessionsResult = Annotated[
    StaffSessionsEnded | NotFound | Forbidden, strawberry.union("RevokeStaffSessionsResult")
]
CreateApiKeyResult = Annotated[
    ApiKeyCreated | ValidationErrors | Forbidden | StepUpRequired,
    strawberry.union("CreateApiKeyResult"),
]
RevokeApiKeyResult = Annotated[
    ApiKeyPayload | NotFound | Forbidden, strawberry.union("RevokeApiKeyResult")
]

_EXPECTED = (domain.Forbidden, domain.StepUpRequired, domain.LastAdministrator)


def _issued(result: accounts.NewAccount) -> EnrolmentIssued:
    return EnrolmentIssued(
        account=StaffAccount.of(result.user),
        enrolment_code=result.enrolment.code,
        enrolment_expires_at=result.enrolment.expires_at,
    )


@strawberry.type
class AdminMutations:
    @strawberry.mutation(description="Create an account; returns its one-time enrolment code.")
    async def create_staff_user(
        self, info: strawberry.Info[Context], input: StaffUserInput
    ) -> CreateStaffUserResult:
        context = info.context
        try:
            team = parse_int_id(input.team_id, "team_id") if input.team_id else None
            created = await accounts.create_user(
                context.principal,
                input.email,
                input.display_name,
                input.role,
                context.auth_policy,
                team,
            )
        except ValidationFailed as failure:
            return ValidationErrors.of(failure)
        except DomainNotFound as failure:
            return NotFound.of(failure)
        except _EXPECTED as error:
            return failure_of(error)
        return _issued(created)

    @strawberry.mutation(description="Disable (ending every session) or re-enable an account.")
    async def set_staff_user_active(
        self, info: strawberry.Info[Context], id: strawberry.ID, active: bool
    ) -> SetStaffUserActiveResult:
        try:
            user = await accounts.set_active(info.context.principal, _id(id), active)
        except DomainNotFound as failure:
            return NotFound.of(failure)
        except _EXPECTED as error:
            return failure_of(error)
        return StaffAccountPayload(account=StaffAccount.of(user))

    @strawberry.mutation(description="Remove an account's MFA; returns a new enrolment code.")
    async def reset_staff_mfa(
        self, info: strawberry.Info[Context], id: strawberry.ID
    ) -> ResetStaffMfaResult:
        context = info.context
        try:
            reset = await accounts.reset_mfa(context.principal, _id(id), context.auth_policy)
        except DomainNotFound as failure:
            return NotFound.of(failure)
        except _EXPECTED as error:
            return failure_of(error)
        return _issued(reset)

    @strawberry.mutation(description="Clear an account's failed sign-in counters.")
    async def unlock_staff_user(
        self, info: strawberry.Info[Context], id: strawberry.ID
    ) -> UnlockStaffUserResult:
        try:
            user_id = _id(id)
            was_locked = await accounts.unlock(info.context.principal, user_id)
            user = await accounts.get_user(info.context.principal, user_id)
        except DomainNotFound as failure:
            return NotFound.of(failure)
        except _EXPECTED as error:
            return failure_of(error)
        return AccountUnlocked(account=StaffAccount.of(user, False), was_locked=was_locked)

    @strawberry.mutation(description="End every session of an account.")
    async def revoke_staff_sessions(
        self, info: strawberry.Info[Context], id: strawberry.ID
    ) -> RevokeStaffSessionsResult:
        try:
            count = await accounts.end_sessions(info.context.principal, _id(id))
        except DomainNotFound as failure:
            return NotFound.of(failure)
        except _EXPECTED as error:
            return failure_of(error)
        return StaffSessionsEnded(count=count)

    @strawberry.mutation(description="Create an API key (needs a recent stepUp).")
    async def create_api_key(
        self, info: strawberry.Info[Context], input: ApiKeyInput
    ) -> CreateApiKeyResult:
        context = info.context
        try:
            issued = await key_admin.create(
                context.principal,
                input.name,
                list(input.scopes),
                context.auth_policy,
                input.expires_at,
            )
        except ValidationFailed as failure:
            return ValidationErrors.of(failure)
        except _EXPECTED as error:
            return failure_of(error)
        return ApiKeyCreated(api_key=ApiKey.of(issued.key), token=issued.token)

    @strawberry.mutation
    async def revoke_api_key(
        self, info: strawberry.Info[Context], id: strawberry.ID
    ) -> RevokeApiKeyResult:
        try:
            key = await key_admin.revoke(info.context.principal, _id(id, "api key"))
        except DomainNotFound as failure:
            return NotFound.of(failure)
        except _EXPECTED as error:
            return failure_of(error)
        return ApiKeyPayload(api_key=ApiKey.of(key))


def _id(value: strawberry.ID, entity: str = "staff user") -> uuid.UUID:
    """A malformed id names no record: it is reported as that record not found."""
    try:
        return parse_uuid(value, "id")
    except ValidationFailed:
        raise DomainNotFound(entity) from None
