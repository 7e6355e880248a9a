"""Staff sessions: opaque bearer tokens, stored only as their SHA-256 digest.

A session starts at ``mfa_pending`` (password checked) or ``enrolling`` (enrolment code
checked) with a lifetime of minutes, and becomes ``active`` only by passing TOTP, at which
point it gets a new token, so a token seen before MFA is worthless after it. An active
session ends at its absolute lifetime, after its idle timeout, on logout or on revocation.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta

from identity.models import SessionStage, StaffSession, StaffUser
from identity.policy import AuthPolicy
from identity.tokens import SESSION_PREFIX, digest, new_token

TOUCH_EVERY = timedelta(minutes=1)
"""``last_seen_at`` is written at most this often: the idle timeout is measured to within
a minute without a write on every request."""


CACHE_SECONDS = 5.0
"""How long a process reuses an active session it has looked up, rather than reading it
again on every request. A logout, revocation, disabled account, MFA reset or role change
made in *another* process takes effect here within this bound; made in this process, at
once (the change drops the cached entry). Expiry and the idle timeout are checked on every
request whatever the cache holds."""
CACHE_SIZE = 10_000


class SessionCache:
    """Active sessions by token digest, each kept for :data:`CACHE_SECONDS`."""

    def __init__(
        self, ttl: float = CACHE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.clock = clock
        self._entries: OrderedDict[str, tuple[float, StaffSession]] = OrderedDict()

    def get(self, key: str) -> StaffSession | None:
        found = self._entries.get(key)
        if found is None:
            return None
        if self.clock() - found[0] >= self.ttl:
            del self._entries[key]
            return None
        return found[1]

    def put(self, key: str, session: StaffSession) -> None:
        self._entries[key] = (self.clock(), session)
        self._entries.move_to_end(key)
        while len(self._entries) > CACHE_SIZE:
            self._entries.popitem(last=False)

    def forget(
        self, *, session_id: uuid.UUID | None = None, user_id: uuid.UUID | None = None
    ) -> None:
        """Drop the sessions with this id, or of this user."""
        for key, (_, session) in list(self._entries.items()):
            if session.id == session_id or (user_id is not None and session.user_id == user_id):
                del self._entries[key]

    def clear(self) -> None:
        self._entries.clear()


cache = SessionCache()


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
    """The live session for ``token`` with its user loaded, or None. An active session is
    reused from :data:`cache` for up to :data:`CACHE_SECONDS`."""
    key = digest(token)
    session = cache.get(key)
    if session is None:
        session = await StaffSession.filter(token_hash=key).select_related("user").first()
        if session is not None and session.stage is SessionStage.ACTIVE:
            cache.put(key, session)
    if session is None or not is_live(session, policy, now) or not session.user.is_active:
        return None
    if now - session.last_seen_at >= TOUCH_EVERY:
        session.last_seen_at = now
        await StaffSession.filter(id=session.id).update(last_seen_at=now)
    return session


async def confirm_mfa(session_id: uuid.UUID, now: datetime) -> None:
    """Record a fresh MFA check (a step-up) on an active session."""
    cache.forget(session_id=session_id)
    await StaffSession.filter(id=session_id).update(mfa_verified_at=now)


async def revoke(session_id: uuid.UUID, reason: str, now: datetime) -> bool:
    cache.forget(session_id=session_id)
    updated = await StaffSession.filter(id=session_id, revoked_at__isnull=True).update(
        revoked_at=now, revoked_reason=reason
    )
    return updated > 0


async def revoke_all(
    user_id: uuid.UUID, reason: str, now: datetime, *, keep: uuid.UUID | None = None
) -> int:
    cache.forget(user_id=user_id)
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
