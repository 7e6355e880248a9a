"""Signing in and looking after your own account."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from core.errors import ValidationFailed
from identity import accounts, enrolment, login
from identity import errors as domain
from identity.errors import InvalidCredentials
from schema.auth.errors import (
    CodeRejected,
    EnrolmentCodeInvalid,
    EnrolmentRequired,
    SignInFailed,
    StepUpRequired,
    TooManyAttempts,
    WrongPassword,
    failure_of,
)
from schema.auth.types import MfaChallenge, MfaEnrolment, SessionInfo, SignedIn, StaffAccount
from schema.context import Context
from schema.errors import ValidationErrors, bad_input

LoginResult = Annotated[
    MfaChallenge | SignInFailed | TooManyAttempts | EnrolmentRequired,
    strawberry.union("LoginResult"),
]
SignInResult = Annotated[
    SignedIn | CodeRejected | TooManyAttempts, strawberry.union("SignInResult")
]
BeginEnrolmentResult = Annotated[
    MfaEnrolment | EnrolmentCodeInvalid | ValidationErrors | TooManyAttempts,
    strawberry.union("BeginEnrolmentResult"),
]


@strawberry.type
class MfaConfirmed:
    mfa_verified_at: datetime


StepUpResult = Annotated[
    MfaConfirmed | CodeRejected | TooManyAttempts, strawberry.union("StepUpResult")
]


@strawberry.type
class PasswordChanged:
    changed_at: datetime
    message: str = "password changed; your other sessions have ended"


ChangePasswordResult = Annotated[
    PasswordChanged | WrongPassword | ValidationErrors | TooManyAttempts,
    strawberry.union("ChangePasswordResult"),
]


@strawberry.type
class RecoveryCodes:
    codes: list[str] = strawberry.field(description="Shown this once; the old ones no longer work.")


RecoveryCodesResult = Annotated[
    RecoveryCodes | StepUpRequired, strawberry.union("RecoveryCodesResult")
]


@strawberry.type
class SessionsEnded:
    count: int


def _signed_in(result: login.SignedIn, context: Context) -> SignedIn:
    return SignedIn(
        token=result.token,
        session=SessionInfo.of(result.session, context.auth_policy),
        account=StaffAccount.of(result.user),
        recovery_codes=list(result.recovery_codes),
    )


@strawberry.type
class SignInMutations:
    @strawberry.mutation(description="Step one: email and password. Returns an MFA challenge.")
    async def login(self, info: strawberry.Info[Context], email: str, password: str) -> LoginResult:
        context = info.context
        try:
            challenge = await login.login(
                email, password, context.auth.client_address, context.auth_policy
            )
        except (domain.SignInFailed, domain.TooManyAttempts, domain.EnrolmentRequired) as error:
            return failure_of(error)
        return MfaChallenge(challenge_token=challenge.token, expires_at=challenge.expires_at)

    @strawberry.mutation(description="Step two: a TOTP code or a recovery code.")
    async def verify_mfa(self, info: strawberry.Info[Context], code: str) -> SignInResult:
        try:
            result = await login.verify_mfa(info.context.auth, code, info.context.auth_policy)
        except (domain.CodeRejected, domain.TooManyAttempts) as error:
            return failure_of(error)
        except InvalidCredentials:
            raise bad_input(
                "no sign-in is waiting for a code: send the challenge token from login", "code"
            ) from None
        return _signed_in(result, info.context)

    @strawberry.mutation(description="Start MFA enrolment with the code an administrator gave you.")
    async def begin_mfa_enrolment(
        self, info: strawberry.Info[Context], enrolment_code: str, password: str
    ) -> BeginEnrolmentResult:
        context = info.context
        try:
            started = await enrolment.begin(
                enrolment_code, password, context.auth.client_address, context.auth_policy
            )
        except ValidationFailed as failure:
            return ValidationErrors.of(failure)
        except (domain.EnrolmentCodeInvalid, domain.TooManyAttempts) as error:
            return failure_of(error)
        return MfaEnrolment(
            enrolment_token=started.token,
            expires_at=started.expires_at,
            secret=started.secret,
            otpauth_uri=started.uri,
            qr_code_svg=started.qr_svg,
        )

    @strawberry.mutation(description="Finish enrolment with a code from the authenticator.")
    async def confirm_mfa_enrolment(
        self, info: strawberry.Info[Context], code: str
    ) -> SignInResult:
        try:
            result = await enrolment.confirm(info.context.auth, code, info.context.auth_policy)
        except (domain.CodeRejected, domain.TooManyAttempts) as error:
            return failure_of(error)
        except InvalidCredentials:
            raise bad_input(
                "no enrolment is waiting for a code: send the enrolment token", "code"
            ) from None
        return _signed_in(result, info.context)

    @strawberry.mutation(description="End this session.")
    async def logout(self, info: strawberry.Info[Context]) -> bool:
        return await login.logout(info.context.auth)

    @strawberry.mutation(description="End every session of yours, this one included.")
    async def revoke_my_sessions(self, info: strawberry.Info[Context]) -> SessionsEnded:
        return SessionsEnded(count=await login.revoke_my_sessions(info.context.principal))

    @strawberry.mutation(description="Confirm with a fresh TOTP code before a sensitive action.")
    async def step_up(self, info: strawberry.Info[Context], code: str) -> StepUpResult:
        try:
            when = await login.step_up(info.context.principal, code, info.context.auth_policy)
        except (domain.CodeRejected, domain.TooManyAttempts) as error:
            return failure_of(error)
        return MfaConfirmed(mfa_verified_at=when)

    @strawberry.mutation
    async def change_password(
        self, info: strawberry.Info[Context], current_password: str, new_password: str
    ) -> ChangePasswordResult:
        try:
            when = await accounts.change_password(
                info.context.principal, current_password, new_password, info.context.auth_policy
            )
        except ValidationFailed as failure:
            return ValidationErrors.of(failure)
        except (domain.WrongPassword, domain.TooManyAttempts) as error:
            return failure_of(error)
        return PasswordChanged(changed_at=when)

    @strawberry.mutation(description="Replace your recovery codes (needs a recent stepUp).")
    async def regenerate_recovery_codes(
        self, info: strawberry.Info[Context]
    ) -> RecoveryCodesResult:
        try:
            codes = await enrolment.regenerate_recovery_codes(
                info.context.principal, info.context.auth_policy
            )
        except domain.StepUpRequired as error:
            return failure_of(error)
        return RecoveryCodes(codes=codes)
