"""Audit events for the batches of jobs (retention, erasure, key rotation, rescoring, audit
pruning): no committed effect without its event.

- An effect in the main database is recorded by an event written in the same transaction
  as the batch, so both commit or neither does.
- An effect outside it (a subject key shredded in the key store, a file removed) is
  announced by an event committed just before it: a job killed in between leaves an
  announcement for work its rerun then does (and records again), never work with no
  record.

Every event of one run carries the run's id, so an auditor can put a killed run and its
rerun side by side.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from tortoise.transactions import in_transaction

from audit.events import Actor, Event, Outcome, record


def new_run() -> str:
    return uuid.uuid4().hex


def batch_event(
    action: str,
    actor: Actor,
    run: str,
    count: int,
    *,
    subjects: Iterable[object] = (),
    **details: str | int | bool | None,
) -> Event:
    """The event of one batch: its run, how many rows it touched, and the data subjects
    (lead ids) it concerned."""
    return Event(
        action=action,
        outcome=Outcome.SUCCESS,
        actor=actor,
        details={"run": run, "count": count, **details},
        subject_ids=tuple(str(s) for s in subjects),
    )


async def announce(event: Event, now: datetime | None = None) -> None:
    """Commit ``event`` on its own, before an effect outside the main database."""
    async with in_transaction("default"):
        await record(event, now=now)
