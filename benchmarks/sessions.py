"""Signed-in sessions for benchmarks, made directly (no password hashing in the setup)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from server.auth.models import SessionStage, StaffSession, StaffUser
from server.auth.roles import Role
from server.auth.tokens import SESSION_PREFIX, digest, new_token


async def active_session(role: Role = Role.MARKETER) -> str:
    """A bearer token for an active session of the first account with ``role``."""
    user = await StaffUser.filter(role=role).order_by("email").first()
    if user is None:
        user = await StaffUser.create(
            email=f"bench-{role.value}@staff.example", display_name="Bench", role=role
        )
    now = datetime.now(UTC)
    token = new_token(SESSION_PREFIX)
    await StaffSession.create(
        user_id=user.id,
        token_hash=digest(token),
        stage=SessionStage.ACTIVE,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=12),
        mfa_verified_at=now,
    )
    return token
