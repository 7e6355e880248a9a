"""Stopping ``serve --with-jobs`` or ``worker``: the scheduler stops starting jobs, a job in
progress stops at its next step with nothing half-written, its lease let go and its run
recorded as stopped, and a database that will not close in time does not hold the
process."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from audit.events import Actor
from audit.models import AuditEvent
from compliance.categories import DataCategory
from compliance.models import JobLease, JobRun
from compliance.runner import STOPPED, Job, RunProgress, Scheduler
from core import stopping
from leads.models import Lead
from rights import retention
from rights.retention_policy import RetentionPolicy
from server.app import close_within
from tests.builders import a_lead

LONG_AGO = datetime.now(UTC) - timedelta(days=4 * 365)


@pytest.fixture(autouse=True)
def running_again_afterwards() -> Iterator[None]:
    yield
    stopping.reset()


async def test_a_retention_run_in_progress_stops_within_the_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(retention, "LEAD_BATCH", 1)
    for i in range(40):
        await a_lead(created_at=LONG_AGO + timedelta(minutes=i))
    batches = asyncio.Event()

    def committed(category: DataCategory, _count: int) -> None:  # called after each commit
        if category is DataCategory.LEADS:
            batches.set()

    async def retention_job(_: RunProgress) -> dict[str, int]:
        await retention.run(
            RetentionPolicy(), datetime.now(UTC), Actor.operator(), progress=committed
        )
        return {}

    scheduler = Scheduler([Job("retention", timedelta(hours=1), retention_job)])
    loop = asyncio.create_task(scheduler.run())
    await asyncio.wait_for(batches.wait(), timeout=30)  # a batch committed: it is mid-run
    assert await JobLease.exists(name=retention.JOB)

    started = asyncio.get_running_loop().time()
    await scheduler.stop(within=10)
    took = asyncio.get_running_loop().time() - started
    await asyncio.wait_for(loop, timeout=5)

    assert took < 10
    run = await JobRun.get(job="retention")
    assert run.outcome == STOPPED  # it stopped at a batch boundary, not mid-transaction
    assert not await JobLease.exists(name=retention.JOB)  # the next run need not wait
    assert not await JobLease.exists(name="job:retention")
    erased = await Lead.filter(erased_at__isnull=False).count()
    recorded = await AuditEvent.filter(action="retention.leads.erased").count()
    assert 0 < erased < 40
    assert recorded == erased  # every committed batch is recorded, none half-done


async def test_a_job_that_ignores_the_stop_does_not_hold_the_shutdown() -> None:
    began, release = asyncio.Event(), asyncio.Event()

    async def stubborn(_: RunProgress) -> dict[str, int]:
        began.set()
        while not release.is_set():
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                continue
        return {}

    scheduler = Scheduler([Job("stubborn", timedelta(hours=1), stubborn)])
    loop = asyncio.create_task(scheduler.run())
    await asyncio.wait_for(began.wait(), timeout=30)

    job = scheduler._running["stubborn"]

    started = asyncio.get_running_loop().time()
    await scheduler.stop(within=0.2)
    took = asyncio.get_running_loop().time() - started
    await asyncio.wait_for(loop, timeout=5)

    assert 0.2 <= took < 5
    assert not job.done()  # left to the process's exit
    release.set()
    job.cancel()
    await asyncio.wait_for(job, timeout=5)


async def test_a_database_that_will_not_close_does_not_hold_the_process() -> None:
    closing = asyncio.Event()

    async def hanging_close() -> None:
        closing.set()
        await asyncio.Event().wait()

    loop = asyncio.get_running_loop()
    await close_within(hanging_close, loop.time() + 0.2)

    assert closing.is_set()
