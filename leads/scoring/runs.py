"""Rescoring runs: queued by publishing a model or by decay, worked through a committed batch
at a time by one process at a time (a database lease renewed by a heartbeat), resumable
after a crash, each batch with its audit event."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from audit.events import Actor, Event, Outcome, Target, record
from audit.jobs import batch_event
from compliance import lease
from core import stopping
from core.errors import NotFound
from leads.models import Lead
from leads.scoring.models import ScoringRun
from leads.scoring.rescoring import BatchOutcome, score_batch
from leads.scoring.service import (
    BATCH,
    RunStatus,
    Trigger,
    definition_of,
    get_version,
    published_model,
)

LEASE = lease.SHORT_LEASE
"""A run's own lease, renewed by the heartbeat while it is worked: a run whose process died
is taken over within a minute."""
JOB = "scoring"


class ScoringBusy(lease.LeaseBusy):
    """Another process is working through rescoring runs."""


async def _claim(run_id: uuid.UUID | None, now: datetime) -> ScoringRun | None:
    """Take the lease of a run that is pending, or running with an expired lease (its
    process died): the database decides, so two processes never work on one run."""
    open_runs = ScoringRun.filter(
        Q(status=RunStatus.PENDING.value)
        | (Q(status=RunStatus.RUNNING.value) & Q(lease_until__lt=now))
    )
    if run_id is not None:
        open_runs = open_runs.filter(id=run_id)
    candidate = await open_runs.order_by("created_at").first()
    if candidate is None:
        return None
    claimed = await ScoringRun.filter(
        Q(id=candidate.id)
        & (
            Q(status=RunStatus.PENDING.value)
            | (Q(status=RunStatus.RUNNING.value) & Q(lease_until__lt=now))
        )
    ).update(status=RunStatus.RUNNING.value, lease_until=now + LEASE, started_at=now)
    return await ScoringRun.get(id=candidate.id) if claimed else None


async def start_decay_run(now: datetime | None = None) -> ScoringRun:
    """Queue a rescoring under the published model (engagement decays with time)."""
    version, _ = await published_model()
    return await ScoringRun.create(
        model_version=version,
        trigger=Trigger.DECAY.value,
        status=RunStatus.PENDING.value,
        total=await Lead.all().count(),
        created_at=now or datetime.now(UTC),
    )


async def run_pending(
    *,
    run_id: uuid.UUID | None = None,
    batch: int = BATCH,
    on_progress: Callable[[int], None] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ScoringRun | None:
    """Work through one pending (or abandoned) run to the end, a committed batch at a time:
    killed halfway, the next call resumes after the last committed lead. One process at a
    time works on runs; another gets :class:`ScoringBusy`, naming the holder."""
    try:
        async with lease.held(JOB):
            return await _work(run_id, batch, on_progress, now)
    except lease.LeaseBusy as busy:
        raise ScoringBusy(busy.name, busy.holder, busy.until) from None


async def _work(
    run_id: uuid.UUID | None,
    batch: int,
    on_progress: Callable[[int], None] | None,
    now: Callable[[], datetime],
) -> ScoringRun | None:
    run = await _claim(run_id, now())
    if run is None:
        return None

    async def renew() -> None:
        await ScoringRun.filter(id=run.id, status=RunStatus.RUNNING.value).update(
            lease_until=now() + LEASE
        )

    async with lease.heartbeat(renew):
        return await _batches(run, batch, on_progress, now)


async def _batches(
    run: ScoringRun,
    batch: int,
    on_progress: Callable[[int], None] | None,
    now: Callable[[], datetime],
) -> ScoringRun:
    definition = definition_of(await get_version(run.model_version))
    while True:
        stopping.check()
        moment = now()
        async with in_transaction("default"):
            outcome, _ = await score_batch(
                definition, run.model_version, moment, run.trigger, after=run.cursor, limit=batch
            )
            if outcome.last_id is None:
                run.status, run.finished_at, run.lease_until = RunStatus.DONE.value, moment, None
                await run.save(update_fields=["status", "finished_at", "lease_until"])
                await record(_run_event(run))
                return run
            _advance_run(run, outcome, moment)
            await run.save(
                update_fields=["cursor", "processed", "changed", "advanced", "lease_until"]
            )
            await record(
                batch_event(
                    "scoring.run.batch",
                    Actor.operator(),
                    str(run.id),
                    outcome.seen,
                    changed=outcome.changed + outcome.cleared,
                    advanced=len(outcome.advanced),
                    model_version=run.model_version,
                ),
                now=moment,
            )
        if on_progress is not None:
            on_progress(outcome.seen)


async def resuming_later(now: datetime) -> list[ScoringRun]:
    """Runs left running by a process that stopped, not yet free to take over (their lease
    runs out within :data:`LEASE`)."""
    return list(
        await ScoringRun.filter(status=RunStatus.RUNNING.value, lease_until__gte=now).order_by(
            "lease_until"
        )
    )


def _advance_run(run: ScoringRun, outcome: BatchOutcome, now: datetime) -> None:
    run.cursor = outcome.last_id
    run.processed += outcome.seen
    run.changed += outcome.changed + outcome.cleared
    run.advanced += len(outcome.advanced)
    run.lease_until = now + LEASE


def _run_event(run: ScoringRun) -> Event:
    return Event(
        action="scoring.run.finished",
        outcome=Outcome.SUCCESS,
        actor=Actor.operator(),
        target=Target("scoring_run", str(run.id)),
        details={
            "model_version": run.model_version,
            "trigger": run.trigger,
            "processed": run.processed,
            "changed": run.changed,
            "advanced": run.advanced,
        },
    )


async def runs(limit: int = 20) -> list[ScoringRun]:
    return await ScoringRun.all().order_by("-created_at").limit(limit)


async def get_run(run_id: uuid.UUID) -> ScoringRun:
    row = await ScoringRun.get_or_none(id=run_id)
    if row is None:
        raise NotFound("scoring run")
    return row


async def scoring_job(
    decay_every: timedelta,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    on_progress: Callable[[int], None] | None = None,
) -> ScoringRun | None:
    """What ``serve`` runs on a schedule: finish a pending (or abandoned) run; otherwise,
    once ``decay_every`` has passed since the last decay run, start one and work it."""
    try:
        done = await run_pending(now=now, on_progress=on_progress)
    except ScoringBusy:
        return None
    if done is not None:
        return done
    last = await ScoringRun.filter(trigger=Trigger.DECAY.value).order_by("-created_at").first()
    if last is not None and last.created_at > now() - decay_every:
        return None
    run = await start_decay_run(now())
    try:
        return await run_pending(run_id=run.id, now=now, on_progress=on_progress)
    except ScoringBusy:  # another process took over; it works the new run too
        return None
