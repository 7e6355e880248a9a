"""Every scheduled job, with its schedule: what ``leadvault worker`` runs (and ``serve
--with-jobs``, and ``demo``). :mod:`compliance.runner` makes sure each runs in one process
at a time and records every run.

Each job is idempotent and resumes from what it committed, so a run taken over from a
killed worker simply carries on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import timedelta

from audit.events import Actor
from compliance.runner import Job, RunProgress, Scheduler, prune_job_runs
from identity import clock
from server.settings import Settings

JOB_RUN_DAYS = 90
"""How long finished job runs are kept (the retention job removes older ones; their
``job.run`` audit events stay for the audit log's own retention)."""


def catalogue(settings: Settings) -> list[Job]:
    """The jobs, each on the schedule its settings give (the outbox only where a sender is
    configured)."""
    decay = timedelta(hours=settings.score_decay_hours)
    cold_after = timedelta(days=settings.cold_after_days)

    async def consent(progress: RunProgress) -> Mapping[str, int]:
        from leads.consent_jobs import run_consent_job

        report = await run_consent_job(Actor.operator(), clock.now(), on_progress=progress.advance)
        return {"expired": report.expired, "scores_cleared": report.scores_cleared}

    async def scoring(progress: RunProgress) -> Mapping[str, int]:
        from leads.scoring.runs import scoring_job

        run = await scoring_job(decay, on_progress=progress.advance)
        if run is None:
            return {}
        return {"processed": run.processed, "changed": run.changed, "advanced": run.advanced}

    async def cold(_: RunProgress) -> Mapping[str, int]:
        from leads.cold import mark_cold

        return {"leads": (await mark_cold(Actor.operator(), clock.now(), cold_after)).leads}

    async def erasure(progress: RunProgress) -> Mapping[str, int]:
        from rights.erasure import run_approved

        done = await run_approved(Actor.operator(), clock.now)
        progress.advance(len(done))
        return {
            "requests": len(done),
            "erased": sum(execution.erased for execution in done),
            "held": sum(execution.held for execution in done),
        }

    async def retention(progress: RunProgress) -> Mapping[str, int]:
        from rights import retention as job
        from rights.retention_policy import retention_policy

        try:
            report = await job.run(
                retention_policy(),
                clock.now(),
                Actor.operator(),
                progress=lambda _category, count: progress.advance(count),
            )
        except job.RetentionBusy:  # run by hand from the command line just now
            return {}
        counts = {category.value: count for category, count in report.counts.items()}
        pruned = await prune_job_runs(clock.now() - timedelta(days=JOB_RUN_DAYS))
        return {
            **counts,
            "held": len(report.held),
            "orphaned_keys": report.orphaned_keys,
            "job_runs": pruned,
        }

    async def announcements(_: RunProgress) -> Mapping[str, int]:
        from leads.breaches import announce_breaches
        from rights.events import announce_due_soon

        now = clock.now()
        return {"tasks": await announce_breaches(now), "requests": await announce_due_soon(now)}

    async def checkpoint(_: RunProgress) -> Mapping[str, int]:
        from audit.chain import checkpoint_now

        signed = await checkpoint_now(clock.now(), "interval")
        return {"signed": 0 if signed is None else 1}

    jobs = [
        Job("consent", timedelta(minutes=settings.consent_job_minutes), consent),
        Job("scoring", timedelta(seconds=settings.scoring_job_seconds), scoring),
        Job("cold", timedelta(minutes=settings.consent_job_minutes), cold),
        Job("erasure", timedelta(minutes=1), erasure),
        Job("retention", timedelta(hours=settings.retention_job_hours), retention),
        Job("audit-checkpoint", timedelta(minutes=settings.audit_checkpoint_minutes), checkpoint),
        Job("announcements", timedelta(minutes=1), announcements),
    ]
    if settings.outbox_dir is not None:
        from compliance.outbox import FileSender, deliver

        sender = FileSender(settings.outbox_dir)

        async def outbox(progress: RunProgress) -> Mapping[str, int]:
            report = await deliver(sender)
            progress.advance(report.sent + report.failed + report.dropped)
            return {"sent": report.sent, "failed": report.failed, "dropped": report.dropped}

        jobs.append(Job("outbox", timedelta(seconds=settings.outbox_interval_seconds), outbox))
    return jobs


class Jobs:
    """What a worker runs (``leadvault worker``, ``serve --with-jobs``): the scheduler of
    :func:`catalogue` and the webhook delivery loop beside it."""

    def __init__(self, settings: Settings) -> None:
        from compliance.events.addresses import networks
        from compliance.events.delivery import DeliveryOptions, Dispatcher

        self.scheduler = Scheduler(
            catalogue(settings), poll=timedelta(seconds=settings.jobs_poll_seconds)
        )
        self.jobs = self.scheduler.jobs
        self.dispatcher = Dispatcher(
            DeliveryOptions(allow=networks(settings.webhook_allow_networks))
        )
        self.poll = settings.webhook_poll_ms / 1000
        self._stop = asyncio.Event()

    async def run(self) -> None:
        try:
            await asyncio.gather(self.scheduler.run(), self.dispatcher.run(self._stop, self.poll))
        finally:
            await self.dispatcher.close()

    async def stop(self, within: float) -> None:
        """Stop both: the delivery loop after the batch it is sending (each send is bounded
        by its timeout), the scheduler as :meth:`Scheduler.stop` says."""
        self._stop.set()
        await self.scheduler.stop(within)


def scheduler(settings: Settings) -> Jobs:
    return Jobs(settings)
