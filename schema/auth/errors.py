"""Typed results for expected sign-in and administration failures."""

from __future__ import annotations

from typing import Any

import strawberry

from identity import errors as domain


@strawberry.type(
    description="Email or password is incorrect (whether the account exists is not said)."
)
class SignInFailed:
    message: str


@strawberry.type(description="Too many failed attempts. Nothing was checked.")
class TooManyAttempts:
    message: str
    retry_after_seconds: int | None = strawberry.field(
        description="Wait this long before trying again; null when locked."
    )
    locked: bool = strawberry.field(description="Only an administrator can unlock it.")


@strawberry.type(description="The password was right but the account has no confirmed MFA yet.")
class EnrolmentRequired:
    message: str


@strawberry.type(description="The enrolment code or password is not valid, or the code expired.")
class EnrolmentCodeInvalid:
    message: str


@strawberry.type(description="The MFA or recovery code is not valid (or was already used).")
class CodeRejected:
    message: str


@strawberry.type(description="The current password is incorrect; nothing was changed.")
class WrongPassword:
    message: str


@strawberry.type(description="Your role or key may not do this; nothing was changed.")
class Forbidden:
    message: str


@strawberry.type(description="Confirm with a fresh MFA code (stepUp) and try again.")
class StepUpRequired:
    message: str
    max_age_minutes: int


@strawberry.type(description="The last active administrator cannot be disabled.")
class LastAdministrator:
    message: str


_MESSAGE_ONLY: dict[type[domain.AuthError], type] = {
    domain.SignInFailed: SignInFailed,
    domain.EnrolmentRequired: EnrolmentRequired,
    domain.EnrolmentCodeInvalid: EnrolmentCodeInvalid,
    domain.CodeRejected: CodeRejected,
    domain.WrongPassword: WrongPassword,
    domain.Forbidden: Forbidden,
    domain.LastAdministrator: LastAdministrator,
}


def failure_of(error: domain.AuthError) -> Any:
    """The typed result for a domain failure (each mutation's union lists the ones it can
    return). Its message is the domain's, which never carries a credential or says whether
    an account exists."""
    message = str(error)
    if isinstance(error, domain.TooManyAttempts):
        return TooManyAttempts(
            message=message, retry_after_seconds=error.retry_after_seconds, locked=error.locked
        )
    if isinstance(error, domain.StepUpRequired):
        return StepUpRequired(message=message, max_age_minutes=error.max_age_minutes)
    return _MESSAGE_ONLY[type(error)](message=message)
