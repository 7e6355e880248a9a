"""Brute-force protection over GraphQL: counters in the database, identical answers for
accounts that exist and accounts that do not."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from audit.models import AuditEvent
from identity import accounts, throttle
from identity.admin import OPERATOR
from identity.models import AuthThrottle
from server.app import create_app
from tests.builders import graphql
from tests.conftest import make_settings
from tests.identity.conftest import Clock, an_enrolled_user
from tests.identity.test_sign_in import VERIFY, challenge, login

WRONG = "wrong horse battery staple"


@pytest.fixture
async def strict_client() -> AsyncIterator[httpx.AsyncClient]:
    """An app that locks an account after six failures (the lowest allowed setting)."""
    app = create_app(make_settings(login_lock_after=6), manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def test_concurrent_wrong_passwords_are_counted_exactly_and_backed_off(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    account = await an_enrolled_user()

    results = await asyncio.gather(
        *(login(anonymous_client, account.user.email, WRONG) for _ in range(12))
    )

    kinds = sorted(result["__typename"] for result in results)
    assert kinds == ["SignInFailed"] * 5 + ["TooManyAttempts"] * 7
    counter = await AuthThrottle.get(key=throttle.account_key(account.user.email))
    assert counter.failures == 5
    assert all(r["retryAfterSeconds"] >= 1 for r in results if r["__typename"] != "SignInFailed")
    assert await AuditEvent.filter(action="auth.login.failed").count() == 5


async def _attempts(client: httpx.AsyncClient, frozen: Clock, email: str, password: str, n: int):
    seen = []
    for _ in range(n):
        seen.append(await login(client, email, password))
        frozen.advance(minutes=16)  # past any backoff, so only the lock decides
    return seen


async def test_an_account_locks_after_the_configured_count_until_an_admin_unlocks_it(
    strict_client: httpx.AsyncClient, frozen: Clock
) -> None:
    account = await an_enrolled_user()

    failures = await _attempts(strict_client, frozen, account.user.email, WRONG, 6)
    locked = await login(strict_client, account.user.email, account.password)

    assert [f["__typename"] for f in failures] == ["SignInFailed"] * 6
    assert locked == {
        "__typename": "TooManyAttempts",
        "message": "sign-in is locked after repeated failures; an administrator can unlock it",
        "retryAfterSeconds": None,
        "locked": True,
    }
    assert await AuditEvent.exists(action="auth.account.locked", target_id=str(account.user.id))
    statuses = {s.user.id: s.locked for s in await accounts.list_users(OPERATOR)}
    assert statuses[account.user.id] is True

    assert await accounts.unlock(OPERATOR, account.user.id)
    unlocked = await login(strict_client, account.user.email, account.password)
    assert unlocked["__typename"] == "MfaChallenge"


async def test_lockout_answers_are_the_same_for_an_account_that_does_not_exist(
    strict_client: httpx.AsyncClient, frozen: Clock
) -> None:
    account = await an_enrolled_user()

    known = await _attempts(strict_client, frozen, account.user.email, WRONG, 8)
    unknown = await _attempts(strict_client, frozen, "nobody@staff.example", WRONG, 8)

    assert known == unknown
    assert [r["__typename"] for r in known] == ["SignInFailed"] * 6 + ["TooManyAttempts"] * 2


async def test_a_burst_from_one_address_is_backed_off_across_accounts(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    emails = [f"guess{i}@staff.example" for i in range(7)]
    results = [await login(anonymous_client, email, WRONG) for email in emails]
    assert [r["__typename"] for r in results] == ["SignInFailed"] * 5 + ["TooManyAttempts"] * 2
    frozen.advance(seconds=2)
    assert (await login(anonymous_client, "another@staff.example", WRONG))["__typename"] == (
        "SignInFailed"
    )


async def test_a_hundred_wrong_codes_in_an_hour_stop_even_the_right_one(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    account = await an_enrolled_user()
    pending = await challenge(anonymous_client, account)
    right = frozen.code(account.secret)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for _ in range(100):
        body = await graphql(anonymous_client, VERIFY, {"code": wrong}, token=pending)
        assert body["data"]["verifyMfa"]["__typename"] == "CodeRejected"

    refused = await graphql(anonymous_client, VERIFY, {"code": right}, token=pending)

    assert refused["data"]["verifyMfa"]["__typename"] == "TooManyAttempts"
    assert refused["data"]["verifyMfa"]["retryAfterSeconds"] == 3600


async def test_many_people_signing_in_at_once_from_one_address_are_not_backed_off(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    first = await an_enrolled_user()
    people = [first] + [
        await an_enrolled_user(password_hash=first.user.password_hash) for _ in range(11)
    ]

    results = await asyncio.gather(
        *(login(anonymous_client, p.user.email, p.password) for p in people)
    )

    assert [r["__typename"] for r in results] == ["MfaChallenge"] * 12
