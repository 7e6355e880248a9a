"""Retention of the audit log itself.

Events older than the retention period (default six years) are deleted from the oldest
end, in batches. Before anything is deleted the chain up to the cut is verified (a job
must not launder a tampered log) and the cut is anchored by a signed checkpoint of the last
deleted event's hash, so the remaining chain still verifies: its first event's link must
equal that checkpoint. The job leaves an ``audit.retention.pruned`` event with counts.
Idempotent: a second run finds nothing older to delete.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from audit.chain import sign_checkpoint
from audit.events import Actor, Event, Outcome, record
from audit.jobs import batch_event, new_run
from audit.models import AuditCheckpoint, AuditEvent, AuditSubject
from audit.verify import verify
from core import stopping


class RetentionRefused(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class Pruned:
    cut_seq: int | None
    events: int
    dry_run: bool


async def _cut(older_than: datetime) -> int | None:
    """The last seq such that it and every event before it are older than the cut-off."""
    first_kept = (
        await AuditEvent.filter(occurred_at__gte=older_than, seq__isnull=False)
        .order_by("seq")
        .first()
    )
    if first_kept is None:
        last = await AuditEvent.filter(seq__isnull=False).order_by("-seq").first()
        # Keep the newest event whatever its age: the head always has a row to link to.
        return (last.seq - 1) if last is not None and last.seq and last.seq > 1 else None
    return first_kept.seq - 1 if first_kept.seq and first_kept.seq > 1 else None


async def prune(
    older_than: datetime,
    actor: Actor,
    now: datetime,
    *,
    dry_run: bool = False,
    batch: int = 5000,
    on_progress: Callable[[int], None] | None = None,
    run: str | None = None,
) -> Pruned:
    run = run or new_run()
    cut = await _cut(older_than)
    lowest = await AuditEvent.filter(seq__isnull=False).order_by("seq").first()
    if cut is None or lowest is None or lowest.seq is None or cut < lowest.seq:
        return Pruned(None, 0, dry_run)
    doomed = cut - lowest.seq + 1
    if dry_run:
        return Pruned(cut, doomed, dry_run)
    checked = await verify(to_seq=cut)
    if not checked.ok:
        problem = checked.problem
        raise RetentionRefused(
            f"the chain does not verify up to seq {cut} ({problem.reason if problem else ''}); "
            "nothing was deleted"
        )
    async with in_transaction("default"):
        if not await AuditCheckpoint.exists(seq=cut):
            last = await AuditEvent.get(seq=cut)
            await sign_checkpoint(cut, last.hash or "", now, "retention")
    deleted = 0
    position = lowest.seq - 1
    while position < cut:
        stopping.check()
        upper = min(position + batch, cut)
        async with in_transaction("default"):
            await AuditSubject.filter(seq__lte=upper).delete()
            removed = await AuditEvent.filter(seq__lte=upper).delete()
            await record(
                batch_event("audit.retention.batch", actor, run, removed, through_seq=upper),
                now=now,
            )
        deleted += removed
        if on_progress is not None:
            on_progress(upper - position)
        position = upper
    await record(
        Event(
            action="audit.retention.pruned",
            outcome=Outcome.SUCCESS,
            actor=actor,
            details={"events": deleted, "cut_seq": cut, "run": run},
        ),
        now=now,
    )
    return Pruned(cut, deleted, dry_run)
