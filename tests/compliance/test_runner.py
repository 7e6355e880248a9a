"""Scheduled jobs: due on their schedule, one run at a time across processes, a killed
holder's job taken over, and every run recorded and audited without a personal value."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from audit.models import AuditEvent
from audit.verify import verify
from compliance import lease
from compliance.models import JobLease, JobRun
from compliance.runner import (
    ABANDONED,
    FAILED,
    RUNNING,
    SUCCEEDED,
    Job,
    RunProgress,
    Scheduler,
    is_due,
    next_run,
    run_once,
)

EVERY = timedelta(minutes=10)


def counting(counts: Mapping[str, int] | None = None) -> tuple[Job, list[int]]:
    calls: list[int] = []

    async def work(progress: RunProgress) -> Mapping[str, int]:
        calls.append(1)
        progress.advance(3)
        return counts or {"changed": 3}

    return Job("sample", EVERY, work), calls


async def test_a_due_job_runs_once_and_its_run_is_recorded_and_audited() -> None:
    job, calls = counting({"changed": 3, "skipped": 0})

    run = await run_once(job)

    assert calls == [1]
    assert run is not None
    stored = await JobRun.get(id=run.id)
    assert stored.outcome == SUCCEEDED
    assert stored.counts == {"changed": 3, "skipped": 0}
    assert stored.done == 3
    assert stored.finished_at is not None
    assert stored.finished_at >= stored.started_at
    event = await AuditEvent.get(action="job.run")
    assert event.outcome == "success"
    assert event.details["job"] == "sample"
    assert event.details["run"] == run.id.hex
    assert event.details["count.changed"] == 3
    assert not await JobLease.exists(name=job.lease_name)  # let go at the end
    assert (await verify()).ok


async def test_a_job_that_ran_recently_is_not_due_until_its_interval_passes() -> None:
    job, calls = counting()
    first = await run_once(job)
    assert first is not None

    assert await run_once(job) is None
    assert calls == [1]
    last = await JobRun.get(id=first.id)
    assert next_run(job, last, datetime.now(UTC)) == last.started_at + EVERY
    assert is_due(job, last, last.started_at + EVERY)


async def test_a_job_whose_lease_another_process_holds_is_left_alone() -> None:
    job, calls = counting()
    await lease.take(job.lease_name, "other-host:1", datetime.now(UTC), lease.SHORT_LEASE)

    assert await run_once(job) is None
    assert calls == []
    assert not await JobRun.exists()


async def test_two_takers_at_the_same_moment_run_the_job_once() -> None:
    job, calls = counting()

    results = await asyncio.gather(*(run_once(job) for _ in range(4)))

    assert calls == [1]
    assert sum(result is not None for result in results) == 1
    assert await JobRun.filter(job="sample").count() == 1


async def test_a_killed_holders_run_is_taken_over_once_its_lease_lapses() -> None:
    job, calls = counting()
    killed_at = datetime.now(UTC) - lease.SHORT_LEASE - timedelta(seconds=1)
    await lease.take(job.lease_name, "killed:1", killed_at, lease.SHORT_LEASE)
    orphan = await JobRun.create(
        job="sample",
        holder="killed:1",
        started_at=killed_at,
        heartbeat_at=killed_at,
        outcome=RUNNING,
    )
    assert timedelta(minutes=1) > lease.SHORT_LEASE

    run = await run_once(job)

    assert run is not None
    assert calls == [1]
    assert (await JobRun.get(id=orphan.id)).outcome == ABANDONED
    assert (await JobRun.get(id=run.id)).outcome == SUCCEEDED


async def test_a_run_in_progress_elsewhere_is_not_due() -> None:
    job, _ = counting()
    now = datetime.now(UTC)
    running = JobRun(
        job="sample", holder="h", started_at=now - EVERY * 3, heartbeat_at=now, outcome=RUNNING
    )

    assert not is_due(job, running, now)
    assert is_due(job, running, now + lease.SHORT_LEASE + timedelta(seconds=1))


async def test_a_failed_run_records_the_error_type_but_never_its_message() -> None:
    async def failing(_: RunProgress) -> Mapping[str, int]:
        raise ValueError("could not reach ada.lovelace@example.com")

    run = await run_once(Job("failing", EVERY, failing))

    assert run is not None
    stored = await JobRun.get(id=run.id)
    assert stored.outcome == FAILED
    assert stored.error == "ValueError"
    event = await AuditEvent.get(action="job.run")
    assert event.outcome == "failure"
    assert event.details["error"] == "ValueError"
    rows = [str(row) for row in await JobRun.all().values()]
    assert not any("ada.lovelace" in text for text in [*rows, str(event.details)])
    assert not await JobLease.exists(name="job:failing")


async def test_the_heartbeat_writes_progress_while_the_job_runs() -> None:
    halfway, finish = asyncio.Event(), asyncio.Event()

    async def slow(progress: RunProgress) -> Mapping[str, int]:
        progress.expect(10)
        progress.advance(4)
        halfway.set()
        await finish.wait()
        return {}

    task = asyncio.create_task(run_once(Job("slow", EVERY, slow), heartbeat=timedelta(0)))
    await asyncio.wait_for(halfway.wait(), timeout=10)
    for _ in range(200):  # bounded: the heartbeat writes within a few loop turns
        row = await JobRun.get(job="slow")
        if row.done == 4:
            break
        await asyncio.sleep(0.01)
    finish.set()
    await asyncio.wait_for(task, timeout=10)

    assert (row.outcome, row.done, row.total) == (RUNNING, 4, 10)


async def test_the_scheduler_runs_each_due_job_and_stops_when_asked() -> None:
    first, first_calls = counting()
    ran = asyncio.Event()

    async def second_work(_: RunProgress) -> Mapping[str, int]:
        ran.set()
        return {}

    scheduler = Scheduler([first, Job("second", EVERY, second_work)], poll=timedelta(seconds=30))
    loop = asyncio.create_task(scheduler.run())
    await asyncio.wait_for(ran.wait(), timeout=10)
    for _ in range(200):
        if await JobRun.filter(outcome=SUCCEEDED).count() == 2:
            break
        await asyncio.sleep(0.01)
    await scheduler.stop(within=5)
    await asyncio.wait_for(loop, timeout=5)

    assert first_calls == [1]
    assert sorted(await JobRun.all().values_list("job", flat=True)) == ["sample", "second"]


async def test_the_retention_job_prunes_job_runs_older_than_ninety_days() -> None:
    from server.jobs import JOB_RUN_DAYS, catalogue
    from tests.conftest import make_settings

    now = datetime.now(UTC)
    old = now - timedelta(days=JOB_RUN_DAYS + 1)
    await JobRun.create(
        job="sample",
        holder="h",
        started_at=old,
        heartbeat_at=old,
        finished_at=old,
        outcome=SUCCEEDED,
    )
    recent = await JobRun.create(
        job="sample",
        holder="h",
        started_at=now,
        heartbeat_at=now,
        finished_at=now,
        outcome=SUCCEEDED,
    )
    (retention,) = [job for job in catalogue(make_settings()) if job.name == "retention"]

    run = await run_once(retention)

    assert run is not None
    assert (await JobRun.get(id=run.id)).counts["job_runs"] == 1
    assert await JobRun.filter(job="sample").values_list("id", flat=True) == [recent.id]
