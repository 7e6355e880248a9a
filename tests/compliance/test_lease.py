"""Job leases: short, renewed by a heartbeat while the job runs, released at the end, and a
refusal that names the holder."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from compliance import lease
from compliance.models import JobLease


async def test_a_stopped_holders_lease_is_taken_over_within_a_minute() -> None:
    assert timedelta(minutes=1) > lease.SHORT_LEASE
    stopped_at = datetime.now(UTC) - lease.SHORT_LEASE - timedelta(seconds=1)
    await lease.take("job", "killed:1", stopped_at, lease.SHORT_LEASE)

    async with lease.held("job") as holder:
        row = await JobLease.get(name="job")

    assert row.holder == holder != "killed:1"
    assert not await JobLease.exists(name="job")  # released at the end


async def test_the_heartbeat_renews_the_lease_while_the_job_runs() -> None:
    renewed = asyncio.Event()

    async with lease.held("job", every=timedelta(0), on_renew=renewed.set) as holder:
        first = (await JobLease.get(name="job")).until
        await asyncio.wait_for(renewed.wait(), timeout=10)
        renewed.clear()
        await asyncio.wait_for(renewed.wait(), timeout=10)
        later = (await JobLease.get(name="job")).until
        with pytest.raises(lease.LeaseBusy, match=f"job is running in {holder}") as refused:
            async with lease.held("job"):
                pass

    assert later > first
    assert refused.value.holder == holder
    assert refused.value.until >= later


async def test_a_job_that_fails_lets_go_of_its_lease() -> None:
    with pytest.raises(RuntimeError):
        async with lease.held("job"):
            raise RuntimeError("the job failed")

    assert not await JobLease.exists(name="job")
