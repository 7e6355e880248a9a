"""Staff sessions: opaque bearer tokens, stored only as their SHA-256 digest.

A session starts at ``mfa_pending`` (password checked) or ``enrolling`` (enrolment code
checked) with a lifetime of minutes, and becomes ``active`` only by passing TOTP, at which
point it gets a new token, so a token seen before MFA is worthless after it. An active
session ends at its absolute lifetime, after its idle timeout, on logout or on revocation.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from identity.models import SessionStage, StaffSession, StaffUser
from identity.policy import AuthPolicy
from identity.tokens import SESSION_PREFIX, digest, new_token

TOUCH_EVERY = timedelta(minutes=1)
"""``last_seen_at`` is written at most this often: the idle timeout is measured to within
a minute without a write on every request."""


async def start(
    user: StaffUser, stage: SessionStage, lifetime: timedelta, now: datetime
) -> tuple[str, StaffSession]:
    token = new_token(SESSION_PREFIX)
    session = await StaffSession.create(
        user_id=user.id,
        token_hash=digest(token),
        stage=stage,
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
    )
    return token, session


async def activate(session: StaffSession, policy: AuthPolicy, now: datetime) -> str:
    """Make a session that just passed MFA active, under a fresh token."""
    token = new_token(SESSION_PREFIX)
    session.token_hash = digest(token)
    session.stage = SessionStage.ACTIVE
    session.mfa_verified_at = now
    session.last_seen_at = now
    session.expires_at = now + policy.session_lifetime
    await session.save(
        update_fields=["token_hash", "stage", "mfa_verified_at", "last_seen_at", "expires_at"]
    )
    return token


def is_live(session: StaffSession, policy: AuthPolicy, now: datetime) -> bool:
    if session.revoked_at is not None or now >= session.expires_at:
        return False
    return not (
        session.stage is SessionStage.ACTIVE and now >= session.last_seen_at + policy.session_idle
    )


async def find(token: str, policy: AuthPolicy, now: datetime) -> StaffSession | None:
    """The live session for ``token`` with its user loaded, or None."""
    session = await StaffSession.filter(token_hash=digest(token)).select_related("user").first()
    if session is None or not is_live(session, policy, now) or not session.user.is_active:
        return None
    if now - session.last_seen_at >= TOUCH_EVERY:
        session.last_seen_at = now
        await StaffSession.filter(id=session.id).update(last_seen_at=now)
    return session


async def revoke(session_id: uuid.UUID, reason: str, now: datetime) -> bool:
    updated = await StaffSession.filter(id=session_id, revoked_at__isnull=True).update(
        revoked_at=now, revoked_reason=reason
    )
    return updated > 0


async def revoke_all(
    user_id: uuid.UUID, reason: str, now: datetime, *, keep: uuid.UUID | None = None
) -> int:
    query = StaffSession.filter(user_id=user_id, revoked_at__isnull=True)
    if keep is not None:
        query = query.exclude(id=keep)
    return await query.update(revoked_at=now, revoked_reason=reason)


async def live_sessions(
    user_id: uuid.UUID, policy: AuthPolicy, now: datetime
) -> list[StaffSession]:
    rows = await StaffSession.filter(
        user_id=user_id, revoked_at__isnull=True, expires_at__gt=now
    ).order_by("-last_seen_at")
    return [row for row in rows if is_live(row, policy, now)]
