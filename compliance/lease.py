"""Database leases for jobs: one process at a time runs a named job, across machines.

A lease is a row (name, holder, until) taken with a conditional update (or an insert when
the job never ran), so two processes racing for it cannot both win. Leases are short
(:data:`SHORT_LEASE`) and renewed by a heartbeat while the job runs (:func:`held`), so a
holder killed outright (``kill -9``) blocks the next run for under a minute, while a long
job keeps its lease however long it takes. Someone refused gets :class:`LeaseBusy`, which
says who holds the lease and until when.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from compliance.models import JobLease


def new_holder() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def take(name: str, holder: str, now: datetime, duration: timedelta) -> bool:
    taken = await JobLease.filter(Q(until__lt=now) | Q(holder=holder), name=name).update(
        holder=holder, until=now + duration
    )
    if taken:
        return True
    try:
        async with in_transaction("default"):
            await JobLease.create(name=name, holder=holder, until=now + duration)
    except IntegrityError:
        return False
    return True


async def release(name: str, holder: str) -> None:
    await JobLease.filter(name=name, holder=holder).delete()


SHORT_LEASE = timedelta(seconds=45)
HEARTBEAT = timedelta(seconds=15)
log = logging.getLogger("leadvault.jobs")


class LeaseBusy(RuntimeError):
    """Another process holds the job's lease."""

    def __init__(self, name: str, holder: str, until: datetime) -> None:
        stamp = until.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        super().__init__(
            f"{name} is running in {holder} (its lease runs to {stamp} and is renewed while "
            "it works; a stopped holder's lease lapses by then)"
        )
        self.name = name
        self.holder = holder
        self.until = until


async def busy(name: str) -> LeaseBusy:
    """The refusal for ``name``, naming its current holder."""
    row = await JobLease.filter(name=name).first()
    if row is None:  # released in between: say so rather than guess
        return LeaseBusy(name, "another process", datetime.now(UTC))
    return LeaseBusy(name, row.holder, row.until)


@asynccontextmanager
async def heartbeat(
    renew: Callable[[], Awaitable[object]],
    every: timedelta = HEARTBEAT,
    on_renew: Callable[[], None] | None = None,
) -> AsyncIterator[None]:
    """Call ``renew`` every ``every`` while the body runs (a failed renewal is logged and
    tried again at the next beat)."""

    async def beat() -> None:
        while True:
            await asyncio.sleep(every.total_seconds())
            try:
                await renew()
            except Exception as error:  # the next beat tries again
                log.warning("lease renewal failed", extra={"error": type(error).__name__})
                continue
            if on_renew is not None:
                on_renew()

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@asynccontextmanager
async def held(
    name: str,
    *,
    duration: timedelta = SHORT_LEASE,
    every: timedelta = HEARTBEAT,
    on_renew: Callable[[], None] | None = None,
) -> AsyncIterator[str]:
    """Hold ``name``'s lease while the body runs (renewed by a heartbeat, released at the
    end); raises :class:`LeaseBusy` when another process holds it."""
    holder = new_holder()
    if not await take(name, holder, datetime.now(UTC), duration):
        raise await busy(name)

    async def renew() -> None:
        await JobLease.filter(name=name, holder=holder).update(until=datetime.now(UTC) + duration)

    try:
        async with heartbeat(renew, every, on_renew):
            yield holder
    finally:
        await release(name, holder)
