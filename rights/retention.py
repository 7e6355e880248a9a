"""The retention job: what the configured periods say must go, goes — without anyone
remembering to do it.

Per category (see :class:`rights.retention_policy.RetentionPolicy`):
- ``leads``: leads never converted (stage lead, MQL or SQL) with no engagement for the
  period are erased as an erasure request would (anonymised, key shredded; funnel counts
  unchanged). They are not put on the suppression list: the person did not object, and may
  come back;
- ``activities``: engagement events older than the period are deleted;
- ``sessions``: staff sessions ended longer ago than the period, and sign-in throttle
  counters idle as long, are deleted;
- ``exports``: expired access exports are deleted and their keys shredded;
- ``audit_events``: the audit log is pruned from its oldest end (see :mod:`audit.retention`).

A legal hold on a category skips it; a hold on a lead keeps that lead and its activities.
``plan`` counts what would go with the same queries the run uses, so a dry run reports
exactly what the run then does. The run works in committed batches under a database lease
(one process at a time), is safe to stop and rerun, records every batch with its own audit
event (see :mod:`audit.jobs`: a run killed halfway leaves every committed batch recorded),
and ends with one ``retention.run`` event with the counts.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tortoise.expressions import Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from audit.events import Actor, Event, Outcome, record
from audit.jobs import announce, batch_event, new_run
from audit.retention import prune
from compliance import lease
from compliance.categories import DataCategory
from compliance.dsr.models import SubjectExport
from core import stopping
from crypto.vault import current_vault
from identity.models import AuthThrottle, StaffSession
from leads.enums import Stage
from leads.models import Activity, Lead
from rights import orphans
from rights.anonymise import anonymise
from rights.deadlines import add_months
from rights.export import delete_export
from rights.holds import category_hold, held_lead_ids, held_leads
from rights.retention_policy import RetentionPolicy

JOB = "retention"
BATCH = 5000
LEAD_BATCH = 2000
"""Leads erased per transaction (their keys are deleted in one key-store statement)."""
UNCONVERTED = (Stage.LEAD, Stage.MQL, Stage.SQL)
Progress = Callable[[DataCategory, int], None]


class RetentionBusy(lease.LeaseBusy):
    """Another process is running the retention job."""


@dataclass(slots=True)
class RetentionReport:
    counts: dict[DataCategory, int] = field(default_factory=dict)
    held: set[DataCategory] = field(default_factory=set)
    orphaned_keys: int = 0
    """Subject keys no record uses (see :mod:`rights.orphans`)."""


def _cutoffs(policy: RetentionPolicy, now: datetime) -> dict[DataCategory, datetime]:
    return {
        DataCategory.LEADS: add_months(now, -policy.lead_months),
        DataCategory.ACTIVITIES: add_months(now, -policy.activity_months),
        DataCategory.SESSIONS: now - timedelta(days=policy.session_days),
        DataCategory.EXPORTS: now,
        DataCategory.AUDIT_EVENTS: now - timedelta(days=policy.audit_days),
    }


def _stale_leads(cutoff: datetime, now: datetime) -> QuerySet[Lead]:
    """Unconverted leads neither created nor engaged since the cut-off (a lead imported
    yesterday with old activities is not stale)."""
    silent = Q(last_engaged_at__isnull=True) | Q(last_engaged_at__lt=cutoff)
    return Lead.filter(
        silent, stage__in=list(UNCONVERTED), created_at__lt=cutoff, erased_at__isnull=True
    ).exclude(held_leads(now))


def _old_activities(cutoff: datetime, now: datetime) -> QuerySet[Activity]:
    return Activity.filter(occurred_at__lt=cutoff).exclude(lead_id__in=held_lead_ids(now))


def _ended_sessions(cutoff: datetime) -> QuerySet[StaffSession]:
    return StaffSession.filter(
        Q(revoked_at__lt=cutoff) | Q(revoked_at__isnull=True, expires_at__lt=cutoff)
    )


def _idle_throttles(cutoff: datetime) -> QuerySet[AuthThrottle]:
    return AuthThrottle.filter(
        Q(blocked_until__isnull=True) | Q(blocked_until__lt=cutoff), window_started_at__lt=cutoff
    )


def _expired_exports(now: datetime) -> QuerySet[SubjectExport]:
    return SubjectExport.filter(deleted_at__isnull=True, expires_at__lte=now)


async def plan(policy: RetentionPolicy, now: datetime) -> RetentionReport:
    """What a run now would remove, per category (nothing is changed)."""
    report = RetentionReport()
    cut = _cutoffs(policy, now)
    for category in DataCategory:
        if await category_hold(category, now):
            report.held.add(category)
            report.counts[category] = 0
    counters = {
        DataCategory.LEADS: lambda: _stale_leads(cut[DataCategory.LEADS], now).count(),
        DataCategory.ACTIVITIES: lambda: _old_activities(cut[DataCategory.ACTIVITIES], now).count(),
        DataCategory.EXPORTS: lambda: _expired_exports(now).count(),
    }
    for category, counter in counters.items():
        if category not in report.held:
            report.counts[category] = await counter()
    if DataCategory.SESSIONS not in report.held:
        sessions = cut[DataCategory.SESSIONS]
        report.counts[DataCategory.SESSIONS] = (
            await _ended_sessions(sessions).count() + await _idle_throttles(sessions).count()
        )
    if DataCategory.AUDIT_EVENTS not in report.held:
        pruned = await prune(cut[DataCategory.AUDIT_EVENTS], Actor.operator(), now, dry_run=True)
        report.counts[DataCategory.AUDIT_EVENTS] = pruned.events
    report.orphaned_keys = await orphans.count(now)
    return report


async def _stale_batches(cutoff: datetime, now: datetime) -> AsyncIterator[list[uuid.UUID]]:
    """Stale leads, LEAD_BATCH at a time, stage by stage in (created_at, id) order: a
    range walk along the (stage, created_at) index, each batch continuing after the last
    row, so the table is read once."""
    for stage in UNCONVERTED:
        last: tuple[datetime, uuid.UUID] | None = None
        while True:
            query = _stale_leads(cutoff, now).filter(stage=stage)
            if last is not None:
                query = query.filter(
                    Q(created_at__gt=last[0]) | Q(created_at=last[0], id__gt=last[1])
                )
            rows = (
                await query.order_by("created_at", "id")
                .limit(LEAD_BATCH)
                .values_list("created_at", "id")
            )
            if not rows:
                break
            last = rows[-1]
            yield [lead_id for _, lead_id in rows]


async def _erase_leads(cutoff: datetime, now: datetime, job: JobRun) -> int:
    done = 0
    async for ids in _stale_batches(cutoff, now):
        stopping.check()
        # The batch is announced before its keys go (a run killed after that leaves the
        # announcement and leads not yet marked erased, which the rerun picks up again:
        # their anonymisation does not need the key), then anonymised with its event.
        await announce(job.event("retention.leads.erasing", len(ids), subjects=ids), now)
        await current_vault().keystore.shred_many(str(i) for i in ids)
        async with in_transaction("default"):
            await anonymise(ids, now, {}, suppress=False, counted=False)
            await record(job.event("retention.leads.erased", len(ids), subjects=ids), now=now)
        done += len(ids)
        job.progress(DataCategory.LEADS, len(ids))
    return done


async def _delete_in_batches(
    query: Callable[[], QuerySet[Activity] | QuerySet[StaffSession] | QuerySet[AuthThrottle]],
    key: str,
    category: DataCategory,
    job: JobRun,
) -> int:
    """Deletes in key order, each batch continuing after the last key (one pass), each
    with its event (naming the leads whose activities went)."""
    done, last = 0, None
    while True:
        stopping.check()
        page = query() if last is None else query().filter(**{f"{key}__gt": last})
        keys = list(await page.order_by(key).limit(BATCH).values_list(key, flat=True))
        if not keys:
            return done
        last = keys[-1]
        async with in_transaction("default"):
            doomed = query().filter(**{f"{key}__in": keys})
            subjects: list[str] = []
            if category is DataCategory.ACTIVITIES:
                subjects = sorted({str(i) for i in await doomed.values_list("lead_id", flat=True)})
            deleted = await doomed.delete()
            await record(
                job.event(
                    f"retention.{category.value}.deleted",
                    deleted,
                    subjects=subjects,
                    table=str(query().model._meta.db_table),
                ),
                now=job.now,
            )
        done += deleted
        job.progress(category, deleted)


@dataclass(slots=True)
class JobRun:
    """One run of the job: its id (on every event), actor, time and progress callback."""

    actor: Actor
    now: datetime
    progress: Progress
    run: str = field(default_factory=new_run)

    def event(
        self,
        action: str,
        count: int,
        *,
        subjects: Iterable[object] = (),
        **details: str | int | bool | None,
    ) -> Event:
        return batch_event(action, self.actor, self.run, count, subjects=subjects, **details)


async def run(
    policy: RetentionPolicy,
    now: datetime,
    actor: Actor,
    *,
    progress: Progress = lambda _category, _count: None,
) -> RetentionReport:
    """Remove what the policy says must go; raises :class:`RetentionBusy` (naming the
    holder) when another process holds the job's lease."""
    try:
        async with lease.held(JOB):
            return await _run(policy, now, actor, progress)
    except lease.LeaseBusy as busy:
        raise RetentionBusy(busy.name, busy.holder, busy.until) from None


async def scheduled(policy: RetentionPolicy, now: datetime, actor: Actor) -> RetentionReport | None:
    """The run ``serve`` starts on its schedule; None when another process has it."""
    try:
        return await run(policy, now, actor)
    except RetentionBusy:
        return None


async def _run(
    policy: RetentionPolicy, now: datetime, actor: Actor, progress: Progress
) -> RetentionReport:
    report = RetentionReport()
    cut = _cutoffs(policy, now)
    held = {c for c in DataCategory if await category_hold(c, now)}
    report.held = held
    job = JobRun(actor, now, progress)

    counts = report.counts
    counts.update({c: 0 for c in DataCategory})
    if DataCategory.LEADS not in held:
        counts[DataCategory.LEADS] = await _erase_leads(cut[DataCategory.LEADS], now, job)
    if DataCategory.ACTIVITIES not in held:
        cutoff = cut[DataCategory.ACTIVITIES]
        counts[DataCategory.ACTIVITIES] = await _delete_in_batches(
            lambda: _old_activities(cutoff, now), "id", DataCategory.ACTIVITIES, job
        )
    if DataCategory.SESSIONS not in held:
        cutoff = cut[DataCategory.SESSIONS]
        counts[DataCategory.SESSIONS] = await _delete_in_batches(
            lambda: _ended_sessions(cutoff), "id", DataCategory.SESSIONS, job
        ) + await _delete_in_batches(
            lambda: _idle_throttles(cutoff), "key", DataCategory.SESSIONS, job
        )
    if DataCategory.EXPORTS not in held:
        for export in await _expired_exports(now):
            stopping.check()
            await announce(job.event("retention.exports.deleting", 1, export=str(export.id)), now)
            await delete_export(export, now)
            counts[DataCategory.EXPORTS] += 1
            progress(DataCategory.EXPORTS, 1)
    report.orphaned_keys = await orphans.sweep(now, actor, job.run)
    if DataCategory.AUDIT_EVENTS not in held:
        pruned = await prune(
            cut[DataCategory.AUDIT_EVENTS],
            actor,
            now,
            on_progress=lambda n: progress(DataCategory.AUDIT_EVENTS, n),
            run=job.run,
        )
        counts[DataCategory.AUDIT_EVENTS] = pruned.events
    await record(
        Event(
            action="retention.run",
            outcome=Outcome.SUCCESS,
            actor=actor,
            details={
                **{c.value: n for c, n in counts.items()},
                "held": ",".join(sorted(c.value for c in held)) or None,
                "orphaned_keys": report.orphaned_keys,
                "run": job.run,
            },
        ),
        now=now,
    )
    return report
