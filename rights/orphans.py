"""Subject keys with no record.

The key store gets a subject's key before the main transaction that writes the record
commits (a capture, an import, a data-subject request, an export): the two are separate
databases. A capture killed or failed at the wrong moment therefore leaves a key that no
record uses. The retention job deletes such keys once they are older than
:data:`ORPHAN_AGE` (long past any transaction still in flight), each batch announced in the
audit trail before it goes (see :mod:`audit.jobs`); ``leadvault keys status`` counts them.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

from audit.events import Actor
from audit.jobs import announce, batch_event
from compliance.dsr.models import DataSubjectRequest, SubjectExport
from crypto.vault import current_vault
from leads.models import Lead

ORPHAN_AGE = timedelta(hours=1)
BATCH = 1000
OWNERS = (Lead, DataSubjectRequest, SubjectExport)
"""Every record whose id names a subject key."""


def _as_uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


async def _owned(subject_ids: list[str]) -> set[str]:
    ids = [found for text in subject_ids if (found := _as_uuid(text)) is not None]
    owned: set[str] = set()
    for model in OWNERS:
        rows = await model.filter(id__in=ids).values_list("id", flat=True)
        owned |= {str(row) for row in rows}
    return owned


async def orphan_batches(now: datetime) -> AsyncIterator[list[str]]:
    """Keys older than :data:`ORPHAN_AGE` that no record owns, a page at a time."""
    store = current_vault().keystore
    after: str | None = None
    while True:
        page = await store.created_before(now - ORPHAN_AGE, after, BATCH)
        if not page:
            return
        after = page[-1]
        owned = await _owned(page)
        orphans = [subject for subject in page if subject not in owned]
        if orphans:
            yield orphans


async def count(now: datetime) -> int:
    return sum([len(batch) async for batch in orphan_batches(now)])


async def sweep(now: datetime, actor: Actor, run: str) -> int:
    """Delete the orphaned keys; returns how many went."""
    store = current_vault().keystore
    deleted = 0
    async for orphans in orphan_batches(now):
        await announce(batch_event("retention.orphan_keys.deleting", actor, run, len(orphans)), now)
        deleted += await store.shred_many(orphans)
    return deleted
