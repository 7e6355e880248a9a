"""Running scheduled jobs: each at most once at a time across every process, each run
recorded (:class:`~compliance.models.JobRun`) and audited.

A job is due when it never ran, when its last run started ``every`` ago or longer, or when
its last run was abandoned (its holder stopped renewing the lease: killed, or its machine
lost). Taking a job means taking its database lease (``job:<name>``) and then checking, under
the lease, that it is still due: a second worker that saw it due at the same moment finds
the first one's fresh run and stays out, so a job never runs twice at once nor twice in
one turn. The lease is short and renewed by a heartbeat that also writes the run's
progress, so a killed worker's job is taken over within :data:`~compliance.lease.SHORT_LEASE`
plus one poll; the jobs themselves resume from what they committed.

Every run ends with one audit event, ``job.run``: the job, the run's id, its outcome and its
counts (numbers only). A run that fails records the type of the error, never its message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial

from tortoise.transactions import in_transaction

from audit.events import Actor, Event, Outcome, record
from compliance import lease
from compliance.models import JobLease, JobRun
from core import metrics, stopping

log = logging.getLogger("leadvault.jobs")

RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
STOPPED = "stopped"
ABANDONED = "abandoned"


@dataclass
class RunProgress:
    """What a running job has done so far; the heartbeat writes it to the run's record."""

    done: int = 0
    total: int | None = None

    def advance(self, count: int = 1) -> None:
        self.done += count

    def expect(self, total: int) -> None:
        self.total = total


JobFunction = Callable[[RunProgress], Awaitable[Mapping[str, int]]]


@dataclass(frozen=True)
class Job:
    """A scheduled job: its name, how often it runs, and what it does (returning what it
    counted)."""

    name: str
    every: timedelta
    run: JobFunction = field(compare=False)

    @property
    def lease_name(self) -> str:
        return f"job:{self.name}"


def is_due(job: Job, last: JobRun | None, now: datetime) -> bool:
    if last is None:
        return True
    if last.outcome == RUNNING:
        return abandoned(last, now)
    return last.started_at + job.every <= now


def abandoned(run: JobRun, now: datetime) -> bool:
    """A run still marked running whose holder stopped renewing it."""
    return run.outcome == RUNNING and run.heartbeat_at + lease.SHORT_LEASE < now


def next_run(job: Job, last: JobRun | None, now: datetime) -> datetime:
    if last is None or is_due(job, last, now):
        return now
    if last.outcome == RUNNING:
        return last.heartbeat_at + lease.SHORT_LEASE
    return last.started_at + job.every


async def prune_job_runs(before: datetime) -> int:
    """Delete the records of runs that finished before ``before``; how many went."""
    return await JobRun.filter(finished_at__lt=before).delete()


async def last_run(name: str) -> JobRun | None:
    return await JobRun.filter(job=name).order_by("-started_at").first()


async def run_once(
    job: Job,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    heartbeat: timedelta = lease.HEARTBEAT,
) -> JobRun | None:
    """Run ``job`` if it is due and no other process has it; the finished run, or None
    when it was not this process's turn."""
    holder = lease.new_holder()
    if not await lease.take(job.lease_name, holder, now(), lease.SHORT_LEASE):
        return None
    try:
        previous = await last_run(job.name)
        if not is_due(job, previous, now()):
            return None
        took_over = None
        if previous is not None and previous.outcome == RUNNING:
            took_over = previous.id.hex  # named in this run's event: no silent takeover
            previous.outcome = ABANDONED
            previous.finished_at = previous.heartbeat_at
            await previous.save(update_fields=("outcome", "finished_at"))
        started = now()
        run = await JobRun.create(
            id=uuid.uuid4(),
            job=job.name,
            holder=holder,
            started_at=started,
            heartbeat_at=started,
            outcome=RUNNING,
        )
        await _work(job, run, holder, heartbeat, now, took_over)
        return run
    finally:
        with contextlib.suppress(Exception):
            await lease.release(job.lease_name, holder)


async def _work(
    job: Job,
    run: JobRun,
    holder: str,
    every: timedelta,
    now: Callable[[], datetime],
    took_over: str | None,
) -> None:
    progress = RunProgress()

    async def renew() -> None:
        moment = now()
        await JobLease.filter(name=job.lease_name, holder=holder).update(
            until=moment + lease.SHORT_LEASE
        )
        await JobRun.filter(id=run.id).update(
            heartbeat_at=moment, done=progress.done, total=progress.total
        )

    started = time.perf_counter()
    counts: Mapping[str, int] = {}
    error: BaseException | None = None
    try:
        async with lease.heartbeat(renew, every):
            counts = await job.run(progress)
        outcome = SUCCEEDED
    except stopping.StopRequested:
        outcome = STOPPED
    except Exception as caught:
        outcome, error = FAILED, caught
        log.warning("job failed", extra={"job": job.name, "error": type(caught).__name__})
    seconds = time.perf_counter() - started
    metrics.JOB_RUNS.labels(job.name, outcome).inc()
    metrics.JOB_SECONDS.labels(job.name).observe(seconds)
    await _finish(job, run, outcome, counts, progress, error, now(), took_over)


async def _finish(
    job: Job,
    run: JobRun,
    outcome: str,
    counts: Mapping[str, int],
    progress: RunProgress,
    error: BaseException | None,
    moment: datetime,
    took_over: str | None,
) -> None:
    """Close the run's record and append its audit event, together (naming the abandoned
    run it took over, if any)."""
    run.outcome = outcome
    run.finished_at = moment
    run.heartbeat_at = moment
    run.counts = {str(k): int(v) for k, v in counts.items()}
    run.done = progress.done
    run.total = progress.total
    run.error = type(error).__name__[:64] if error is not None else None
    details: dict[str, str | int | bool | None] = {
        "job": job.name,
        "run": run.id.hex,
        "result": outcome,
        "seconds": round((moment - run.started_at).total_seconds()),
    }
    if run.error:
        details["error"] = run.error
    if took_over:
        details["took_over"] = took_over
    for name, value in list(run.counts.items())[:20]:
        details[f"count.{name}"[:64]] = value
    async with in_transaction("default"):
        await run.save()
        await record(
            Event(
                action="job.run",
                outcome=Outcome.SUCCESS if outcome == SUCCEEDED else Outcome.FAILURE,
                actor=Actor.operator(),
                details=details,
            ),
            now=moment,
        )


class Scheduler:
    """The loop of ``leadvault worker`` (and of ``serve --with-jobs``): every ``poll``,
    start each due job this process is not already running; on :meth:`stop`, ask running
    jobs to stop at their next safe point."""

    def __init__(
        self,
        jobs: Sequence[Job],
        *,
        poll: timedelta = timedelta(seconds=5),
        heartbeat: timedelta = lease.HEARTBEAT,
    ) -> None:
        self.jobs = tuple(jobs)
        self.poll = poll
        self.heartbeat = heartbeat
        self._running: dict[str, asyncio.Task[JobRun | None]] = {}
        self._stop = asyncio.Event()

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.tick()
            except Exception as error:  # the database may be away for a moment
                log.warning("scheduler tick failed", extra={"error": type(error).__name__})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.poll.total_seconds())

    async def tick(self) -> None:
        now = datetime.now(UTC)
        for job in self.jobs:
            if job.name in self._running or self._stop.is_set():
                continue
            if not is_due(job, await last_run(job.name), now):
                continue
            task = asyncio.create_task(run_once(job, heartbeat=self.heartbeat), name=job.name)
            self._running[job.name] = task
            task.add_done_callback(partial(self._done, job.name))

    def _done(self, name: str, _: asyncio.Task[JobRun | None]) -> None:
        self._running.pop(name, None)

    async def stop(self, within: float) -> None:
        """Stop starting jobs; give running ones ``within`` seconds to reach a safe point
        (their runs are then recorded as stopped), then cancel what is left."""
        self._stop.set()
        stopping.request()
        tasks = list(self._running.values())
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=within)
        for task in pending:
            log.warning("a job did not stop in time", extra={"job": task.get_name()})
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=1)
