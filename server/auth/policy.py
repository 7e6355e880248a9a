"""The timings and limits of sign-in, from settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from server.auth.throttle import Policy
from server.settings import Settings

BACKOFF_AFTER = 5
TOTP_FAILURES_PER_HOUR = 100


@dataclass(frozen=True, slots=True)
class AuthPolicy:
    session_idle: timedelta = timedelta(minutes=30)
    session_lifetime: timedelta = timedelta(hours=12)
    mfa_challenge_lifetime: timedelta = timedelta(minutes=5)
    enrolling_lifetime: timedelta = timedelta(minutes=15)
    enrolment_code_lifetime: timedelta = timedelta(hours=72)
    step_up_window: timedelta = timedelta(minutes=10)
    account: Policy = field(
        default_factory=lambda: Policy(backoff_after=BACKOFF_AFTER, lock_after=10)
    )
    address: Policy = field(
        default_factory=lambda: Policy(backoff_after=BACKOFF_AFTER, window=timedelta(hours=1))
    )
    totp: Policy = field(
        default_factory=lambda: Policy(
            window=timedelta(hours=1), max_per_window=TOTP_FAILURES_PER_HOUR
        )
    )

    @classmethod
    def from_settings(cls, settings: Settings) -> AuthPolicy:
        return cls(
            session_idle=timedelta(minutes=settings.session_idle_minutes),
            session_lifetime=timedelta(hours=settings.session_lifetime_hours),
            step_up_window=timedelta(minutes=settings.step_up_minutes),
            account=Policy(backoff_after=BACKOFF_AFTER, lock_after=settings.login_lock_after),
        )
