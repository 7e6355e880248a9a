"""The timings and limits of sign-in. The server builds them from its settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from identity.throttle import Policy

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
