"""Database leases for jobs: one process at a time runs a named job, across machines.

A lease is a row (name, holder, until) taken with a conditional update (or an insert when
the job never ran), so two processes racing for it cannot both win; a crashed holder's
lease lapses at ``until``. The holder renews it between batches.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

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
