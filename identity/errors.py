"""Expected failures of sign-in and account management. Messages never carry an email,
a password, a code or a token, and never say whether an account exists."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from core import metrics

if TYPE_CHECKING:
    from identity.throttle import Claim


class AuthError(Exception):
    pass


class InvalidCredentials(AuthError):
    """The bearer token is unknown, expired, revoked or malformed (the four look alike)."""

    def __init__(self) -> None:
        super().__init__("the session or key is not valid; sign in again")


class SignInFailed(AuthError):
    """Wrong email or password, or an account that cannot sign in (they look alike)."""

    def __init__(self) -> None:
        super().__init__("email or password is incorrect")


class TooManyAttempts(AuthError):
    def __init__(self, retry_after: timedelta | None, *, locked: bool = False) -> None:
        self.retry_after = retry_after
        self.locked = locked
        if locked:
            message = "sign-in is locked after repeated failures; an administrator can unlock it"
        else:
            message = "too many failed attempts; wait before trying again"
        super().__init__(message)

    @classmethod
    def refusing(cls, claim: Claim) -> TooManyAttempts:
        """The error for a refused throttle claim."""
        metrics.RATE_LIMITED.labels("sign_in_attempts").inc()
        return cls(claim.retry_after, locked=claim.locked)

    @property
    def retry_after_seconds(self) -> int | None:
        if self.retry_after is None:
            return None
        return max(1, int(self.retry_after.total_seconds() + 0.999))


class EnrolmentRequired(AuthError):
    def __init__(self) -> None:
        super().__init__(
            "this account has no confirmed MFA; complete enrolment with the code an "
            "administrator gave you"
        )


class EnrolmentCodeInvalid(AuthError):
    def __init__(self) -> None:
        super().__init__("the enrolment code or password is not valid, or the code has expired")


class CodeRejected(AuthError):
    """A TOTP or recovery code did not verify. ``replayed`` is for the audit trail only;
    the caller sees the same message either way."""

    def __init__(self, *, replayed: bool = False) -> None:
        super().__init__("the code is not valid")
        self.replayed = replayed


class WrongPassword(AuthError):
    def __init__(self) -> None:
        super().__init__("the current password is incorrect")


class Forbidden(AuthError):
    def __init__(self, message: str = "your role may not do this") -> None:
        super().__init__(message)


class StepUpRequired(AuthError):
    """The operation needs a TOTP check more recent than the session has."""

    def __init__(self, window: timedelta) -> None:
        self.max_age_minutes = int(window.total_seconds() // 60)
        super().__init__(
            f"confirm with a fresh MFA code first (needed within {self.max_age_minutes} minutes)"
        )


class LastAdministrator(AuthError):
    def __init__(self) -> None:
        super().__init__("this is the last active administrator; add another one first")
