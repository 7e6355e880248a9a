"""Failure counters for sign-in, kept in the database so several server processes share them.

An attempt against an account or a TOTP seed first *claims* a slot: the claim counts it as
a failure before the password or code is checked, so a burst of concurrent guesses cannot
all slip through while the counter still reads low. A successful check then *releases* the
claim (the account counter resets; the TOTP counter takes the one attempt back). Client
addresses are only *checked* before and counted after a failure, so an office signing in
at nine behind one gateway is not backed off by its own successful logins. Each update is a
compare-and-swap on ``version``, retried on conflict, so no increment is ever lost.

Keys are digests (``account:<sha256 of the email>``, ``ip:<sha256 of the address>``,
``totp:<user id>``), so the table holds no email addresses or client addresses; and an
unknown email is counted exactly like a known one, so the throttle reveals nothing about
which accounts exist.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError

from identity.models import AuthThrottle

MAX_BACKOFF = timedelta(minutes=15)
_CAS_ATTEMPTS = 200


@dataclass(frozen=True, slots=True)
class Policy:
    """``backoff_after`` failures are free; each further one doubles a wait starting at one
    second. ``lock_after`` failures lock the key until an administrator unlocks it.
    ``window`` makes the count restart after that long; ``max_per_window`` caps it."""

    backoff_after: int | None = None
    lock_after: int | None = None
    window: timedelta | None = None
    max_per_window: int | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    key: str
    allowed: bool
    failures: int = 0
    retry_after: timedelta | None = None
    locked: bool = False
    locks_on_failure: bool = False
    """This attempt reached the lock threshold: if it fails, the key is now locked."""


def account_key(email: str) -> str:
    return "account:" + hashlib.sha256(email.strip().casefold().encode()).hexdigest()


def address_key(address: str) -> str:
    return "ip:" + hashlib.sha256(address.encode()).hexdigest()


def totp_key(user_id: uuid.UUID) -> str:
    return f"totp:{user_id}"


def backoff_delay(failures: int, policy: Policy) -> timedelta | None:
    if policy.backoff_after is None or failures < policy.backoff_after:
        return None
    exponent = min(failures - policy.backoff_after, 20)
    return min(timedelta(seconds=2**exponent), MAX_BACKOFF)


async def _row(key: str, now: datetime) -> AuthThrottle:
    row = await AuthThrottle.get_or_none(key=key)
    if row is not None:
        return row
    try:
        return await AuthThrottle.create(key=key, failures=0, window_started_at=now, version=0)
    except IntegrityError:
        return await AuthThrottle.get(key=key)


async def _swap(row: AuthThrottle, **changes: object) -> bool:
    updated = await AuthThrottle.filter(key=row.key, version=row.version).update(
        version=row.version + 1, **changes
    )
    return updated == 1


def _refusal(row: AuthThrottle, policy: Policy, now: datetime) -> Claim | None:
    if row.locked_at is not None:
        return Claim(row.key, allowed=False, failures=row.failures, locked=True)
    if row.blocked_until is not None and now < row.blocked_until:
        return Claim(
            row.key, allowed=False, failures=row.failures, retry_after=row.blocked_until - now
        )
    failures, window_started = _window(row, policy, now)
    if policy.max_per_window is not None and failures >= policy.max_per_window:
        assert policy.window is not None
        return Claim(
            row.key,
            allowed=False,
            failures=failures,
            retry_after=window_started + policy.window - now,
        )
    return None


def _window(row: AuthThrottle, policy: Policy, now: datetime) -> tuple[int, datetime]:
    if policy.window is not None and now - row.window_started_at >= policy.window:
        return 0, now
    return row.failures, row.window_started_at


async def check(key: str, policy: Policy, now: datetime) -> Claim:
    """Whether an attempt against ``key`` may go ahead, counting nothing. Used for client
    addresses, where many people behind one gateway may sign in at once; their failures
    are counted afterwards with :func:`record_failure`."""
    row = await AuthThrottle.get_or_none(key=key)
    refusal = _refusal(row, policy, now) if row is not None else None
    return refusal or Claim(key, allowed=True, failures=row.failures if row else 0)


async def record_failure(key: str, policy: Policy, now: datetime) -> None:
    await claim(key, policy, now, refuse=False)


async def claim(key: str, policy: Policy, now: datetime, *, refuse: bool = True) -> Claim:
    """Count one attempt against ``key``, or refuse it if the key is waiting or locked."""
    for _ in range(_CAS_ATTEMPTS):
        row = await _row(key, now)
        refusal = _refusal(row, policy, now) if refuse else None
        if refusal is not None:
            return refusal
        failures, window_started = _window(row, policy, now)
        failures += 1
        delay = backoff_delay(failures, policy)
        locks = policy.lock_after is not None and failures >= policy.lock_after
        if await _swap(
            row,
            failures=failures,
            window_started_at=window_started,
            blocked_until=now + delay if delay else None,
            locked_at=now if locks else None,
        ):
            return Claim(key, allowed=True, failures=failures, locks_on_failure=locks)
    raise RuntimeError("throttle counter kept changing; giving up")


async def release(key: str, *, reset: bool) -> None:
    """After a success: ``reset`` clears the key; otherwise the claimed attempt is taken
    back (a correct code is not a failure) but any wait already set stays, so a caller
    cannot lift an address's backoff by signing in to an account of their own."""
    if reset:
        await AuthThrottle.filter(key=key).delete()
        return
    for _ in range(_CAS_ATTEMPTS):
        row = await AuthThrottle.get_or_none(key=key)
        if row is None or row.failures == 0:
            return
        if await _swap(row, failures=row.failures - 1):
            return
    raise RuntimeError("throttle counter kept changing; giving up")


async def unlock(key: str) -> bool:
    """Clear a key (an administrator's unlock). Returns whether it was locked."""
    row = await AuthThrottle.get_or_none(key=key)
    if row is None:
        return False
    await AuthThrottle.filter(key=key).delete()
    return row.locked_at is not None


async def locked_keys(keys: list[str]) -> set[str]:
    rows = await AuthThrottle.filter(key__in=keys, locked_at__isnull=False).values_list(
        "key", flat=True
    )
    return {str(key) for key in rows}
