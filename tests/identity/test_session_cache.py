"""An active session is reused in the process for at most CACHE_SECONDS: a revocation made
elsewhere is honoured within that bound, one made here at once, and expiry and idleness
are checked on every request whatever the cache holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from identity import sessions
from identity.models import StaffSession
from identity.roles import Role
from tests.builders import a_staff_user, session_token

ME = "{ me { id } }"


class Ticks:
    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


@pytest.fixture
def ticks(monkeypatch: pytest.MonkeyPatch) -> Ticks:
    fake = Ticks()
    monkeypatch.setattr(sessions.cache, "clock", fake)
    sessions.cache.clear()
    return fake


async def _status(client: httpx.AsyncClient, token: str) -> int:
    response = await client.post(
        "/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {token}"}
    )
    return response.status_code


async def test_a_revocation_by_another_process_is_honoured_within_the_bound(
    anonymous_client: httpx.AsyncClient, ticks: Ticks
) -> None:
    user = await a_staff_user(Role.SALES_REP)
    token = await session_token(user)
    assert await _status(anonymous_client, token) == 200
    # another process revokes it: a plain update, this process is not told
    await StaffSession.filter(user_id=user.id).update(
        revoked_at=datetime.now(UTC), revoked_reason="revoke_all"
    )
    ticks.value += sessions.CACHE_SECONDS - 0.5
    assert await _status(anonymous_client, token) == 200  # still within the bound
    ticks.value += 0.5
    assert await _status(anonymous_client, token) == 401


async def test_a_revocation_in_this_process_is_honoured_at_once(
    anonymous_client: httpx.AsyncClient, ticks: Ticks
) -> None:
    user = await a_staff_user(Role.SALES_REP)
    token = await session_token(user)
    assert await _status(anonymous_client, token) == 200
    session = await StaffSession.get(user_id=user.id)
    assert await sessions.revoke(session.id, "logout", datetime.now(UTC))
    assert await _status(anonymous_client, token) == 401

    other = await session_token(user)
    assert await _status(anonymous_client, other) == 200
    assert await sessions.revoke_all(user.id, "disabled", datetime.now(UTC)) == 1
    assert await _status(anonymous_client, other) == 401


async def test_expiry_is_checked_on_every_request_even_when_cached(
    anonymous_client: httpx.AsyncClient, ticks: Ticks, monkeypatch: pytest.MonkeyPatch
) -> None:
    from identity import clock

    user = await a_staff_user(Role.SALES_REP)
    token = await session_token(user)
    assert await _status(anonymous_client, token) == 200
    later = datetime.now(UTC) + timedelta(hours=13)  # past the 12-hour lifetime
    monkeypatch.setattr(clock, "now", lambda: later)
    assert await _status(anonymous_client, token) == 401


async def test_only_active_sessions_are_kept(
    anonymous_client: httpx.AsyncClient, ticks: Ticks
) -> None:
    user = await a_staff_user(Role.SALES_REP)
    pending = await session_token(user, stage=sessions.SessionStage.MFA_PENDING)
    await _status(anonymous_client, pending)
    assert sessions.cache.get(sessions.digest(pending)) is None
    active = await session_token(user)
    await _status(anonymous_client, active)
    assert sessions.cache.get(sessions.digest(active)) is not None
