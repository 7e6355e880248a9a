"""Group commit: appends made outside any transaction (a read's event, a job's
announcement) that arrive while another group is being written wait for the next group,
and each group is written in one transaction with one turn on the chain's head.

Every append takes the head's lock (a row lock on PostgreSQL, the write lock on SQLite)
until its transaction commits, and a transaction's statements are spaced out by whatever
else the process's event loop is doing; one turn per event makes the head the bottleneck
of a busy process and of several processes. One turn per group does not. Each caller
still waits for its own events to commit (a read's event is written before its
response), and if the group's transaction fails, every caller in it gets the error (the
reads fail closed); nothing of a failed group is written.

An append inside a transaction (a change and its event) cannot wait for a group: it is
written in that transaction, as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from tortoise.transactions import in_transaction

from audit.deferred import Write
from audit.models import AuditEvent

MAX_GROUP = 500
"""Events written in one transaction at most (the rest wait for the next group)."""


@dataclass
class _Waiting:
    events: Sequence[AuditEvent]
    now: datetime
    done: asyncio.Future[None]


@dataclass
class _Groups:
    loop: asyncio.AbstractEventLoop | None = None
    waiting: list[_Waiting] = field(default_factory=list)
    writer: asyncio.Task[None] | None = None
    groups_written: int = 0


_groups = _Groups()


async def append_in_group(events: Sequence[AuditEvent], now: datetime, write: Write) -> None:
    """Write ``events`` with the next group (``write`` numbers, chains and inserts them
    inside the group's transaction); returns once they are committed."""
    loop = asyncio.get_running_loop()
    if _groups.loop is not loop:  # a new event loop (a new process or test session)
        _groups.loop, _groups.waiting, _groups.writer = loop, [], None
    waiting = _Waiting(events, now, loop.create_future())
    _groups.waiting.append(waiting)
    if _groups.writer is None:
        _groups.writer = loop.create_task(_write_groups(write), name="audit group commit")
    await waiting.done


def _next_group() -> list[_Waiting]:
    group: list[_Waiting] = []
    count = 0
    while _groups.waiting and (not group or count + len(_groups.waiting[0].events) <= MAX_GROUP):
        entry = _groups.waiting.pop(0)
        group.append(entry)
        count += len(entry.events)
    return group


async def _write_groups(write: Write) -> None:
    try:
        while _groups.waiting:
            group = _next_group()
            try:
                async with in_transaction("default"):
                    await write(
                        [event for entry in group for event in entry.events],
                        max(entry.now for entry in group),
                    )
            except BaseException as error:  # cancelled too: no caller is left waiting
                failure = error if isinstance(error, Exception) else asyncio.CancelledError()
                for entry in [*group, *_groups.waiting]:
                    if not entry.done.done():
                        entry.done.set_exception(failure)
                if not isinstance(error, Exception):
                    _groups.waiting.clear()
                    raise
                continue
            _groups.groups_written += 1
            for entry in group:
                if not entry.done.done():
                    entry.done.set_result(None)
    finally:
        _groups.writer = None
