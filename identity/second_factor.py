"""Checking a second factor: a TOTP code, or a single-use recovery code.

Used by sign-in, step-up and enrolment confirmation. Every failure is counted against the
account's TOTP limit and recorded; a code that matches an already-used step is refused as
a replay, including when two requests race with the same code (the step is consumed by a
conditional update, so only one of them wins).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from tortoise.expressions import Q

from audit.events import Actor, Outcome
from crypto.vault import current_vault, location_of, open_secret, seal_secret
from identity import throttle
from identity.errors import CodeRejected, TooManyAttempts
from identity.events import AuthAction, auth_event
from identity.models import RecoveryCode, StaffUser
from identity.policy import AuthPolicy
from identity.totp import check_code, looks_like_totp, normalize_recovery_code, recovery_digest


class Method(enum.StrEnum):
    TOTP = "totp"
    RECOVERY_CODE = "recovery_code"


def sealed_totp_secret(user_id: uuid.UUID, secret: str) -> bytes:
    """``secret`` sealed for the account's ``totp_secret`` column."""
    return seal_secret(current_vault(), location_of(StaffUser, "totp_secret", user_id), secret)


def totp_secret_of(user: StaffUser) -> str | None:
    if user.totp_secret is None:
        return None
    location = location_of(StaffUser, "totp_secret", user.id)
    return open_secret(current_vault(), location, user.totp_secret)


async def _consume_step(user: StaffUser, step: int) -> bool:
    updated = (
        await StaffUser.filter(id=user.id)
        .filter(Q(totp_last_step__isnull=True) | Q(totp_last_step__lt=step))
        .update(totp_last_step=step)
    )
    if updated:
        user.totp_last_step = step
    return updated == 1


async def _consume_recovery_code(user: StaffUser, code: str, now: datetime) -> bool | None:
    """True: used now. False: already used (a replay). None: no such code."""
    normalized = normalize_recovery_code(code)
    if normalized is None:
        return None
    code_hash = recovery_digest(normalized)
    updated = await RecoveryCode.filter(
        user_id=user.id, code_hash=code_hash, used_at__isnull=True
    ).update(used_at=now)
    if updated:
        return True
    return False if await RecoveryCode.exists(user_id=user.id, code_hash=code_hash) else None


async def verify(
    user: StaffUser,
    code: str,
    actor: Actor,
    policy: AuthPolicy,
    now: datetime,
    *,
    allow_recovery: bool = True,
) -> Method:
    """Check ``code`` for ``user`` or raise :class:`CodeRejected` / :class:`TooManyAttempts`."""
    claim = await throttle.claim(throttle.totp_key(user.id), policy.totp, now)
    if not claim.allowed:
        await auth_event(
            AuthAction.MFA_FAILED,
            Outcome.DENIED,
            actor,
            target_user=user.id,
            now=now,
            reason="throttled",
        )
        raise TooManyAttempts.refusing(claim)
    method, replayed = await _check(user, code, now, allow_recovery)
    if method is None:
        action = AuthAction.MFA_REPLAYED if replayed else AuthAction.MFA_FAILED
        await auth_event(action, Outcome.FAILURE, actor, target_user=user.id, now=now)
        raise CodeRejected(replayed=replayed)
    await throttle.release(claim.key, reset=False)
    if method is Method.RECOVERY_CODE:
        remaining = await RecoveryCode.filter(user_id=user.id, used_at__isnull=True).count()
        await auth_event(
            AuthAction.RECOVERY_CODE_USED,
            Outcome.SUCCESS,
            actor,
            target_user=user.id,
            now=now,
            remaining=remaining,
        )
    return method


async def _check(
    user: StaffUser, code: str, now: datetime, allow_recovery: bool
) -> tuple[Method | None, bool]:
    if looks_like_totp(code):
        secret = totp_secret_of(user)
        if secret is None:
            return None, False
        result = check_code(secret, code, now=now, last_step=user.totp_last_step)
        if result.step is None:
            return None, False
        if result.replayed or not await _consume_step(user, result.step):
            return None, True
        return Method.TOTP, False
    if not allow_recovery or user.mfa_enrolled_at is None:
        return None, False
    used = await _consume_recovery_code(user, code, now)
    if used is None:
        return None, False
    return (Method.RECOVERY_CODE, False) if used else (None, True)
