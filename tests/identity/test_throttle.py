from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from identity import throttle
from identity.models import AuthThrottle

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
ACCOUNT = throttle.Policy(backoff_after=5, lock_after=10)
HOURLY = throttle.Policy(window=timedelta(hours=1), max_per_window=100)


async def test_five_failures_are_free_and_the_sixth_attempt_must_wait() -> None:
    key = throttle.account_key("ada@example.com")
    for _ in range(4):
        assert (await throttle.claim(key, ACCOUNT, NOW)).allowed
    fifth = await throttle.claim(key, ACCOUNT, NOW)
    assert fifth.allowed
    assert fifth.failures == 5
    refused = await throttle.claim(key, ACCOUNT, NOW)
    assert not refused.allowed
    assert refused.retry_after == timedelta(seconds=1)
    assert (await throttle.claim(key, ACCOUNT, NOW + timedelta(seconds=1))).allowed


async def test_the_wait_doubles_with_each_further_failure_up_to_fifteen_minutes() -> None:
    assert throttle.backoff_delay(4, ACCOUNT) is None
    assert throttle.backoff_delay(5, ACCOUNT) == timedelta(seconds=1)
    assert throttle.backoff_delay(8, ACCOUNT) == timedelta(seconds=8)
    assert throttle.backoff_delay(40, ACCOUNT) == timedelta(minutes=15)


async def test_reaching_the_lock_count_locks_until_unlocked() -> None:
    key = throttle.account_key("ada@example.com")
    now = NOW
    for _ in range(10):
        claim = await throttle.claim(key, ACCOUNT, now)
        assert claim.allowed
        now += timedelta(minutes=20)
    assert claim.locks_on_failure
    locked = await throttle.claim(key, ACCOUNT, now + timedelta(days=30))
    assert not locked.allowed
    assert locked.locked
    assert locked.retry_after is None
    assert await throttle.unlock(key)
    assert (await throttle.claim(key, ACCOUNT, now)).allowed


async def test_concurrent_attempts_lose_no_count_and_only_five_get_through() -> None:
    key = throttle.account_key("ada@example.com")
    claims = await asyncio.gather(*(throttle.claim(key, ACCOUNT, NOW) for _ in range(30)))
    assert sum(c.allowed for c in claims) == 5
    assert sorted(c.failures for c in claims if c.allowed) == [1, 2, 3, 4, 5]
    assert (await AuthThrottle.get(key=key)).failures == 5


async def test_a_success_resets_the_account_but_only_takes_back_one_address_attempt() -> None:
    account, address = throttle.account_key("ada@example.com"), throttle.address_key("10.0.0.1")
    for _ in range(3):
        await throttle.claim(account, ACCOUNT, NOW)
        await throttle.claim(address, ACCOUNT, NOW)
    await throttle.release(account, reset=True)
    await throttle.release(address, reset=False)
    assert not await AuthThrottle.exists(key=account)
    assert (await AuthThrottle.get(key=address)).failures == 2


async def test_an_hourly_limit_refuses_until_the_window_ends() -> None:
    key = "totp:test"
    for _ in range(100):
        assert (await throttle.claim(key, HOURLY, NOW)).allowed
    refused = await throttle.claim(key, HOURLY, NOW + timedelta(minutes=10))
    assert not refused.allowed
    assert refused.retry_after == timedelta(minutes=50)
    assert (await throttle.claim(key, HOURLY, NOW + timedelta(hours=1))).allowed


def test_keys_hold_no_email_or_address() -> None:
    assert "ada" not in throttle.account_key("ada@example.com")
    assert throttle.account_key(" ADA@example.com ") == throttle.account_key("ada@example.com")
    assert "10.0.0.1" not in throttle.address_key("10.0.0.1")
