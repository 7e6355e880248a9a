"""Master-key rotation: re-wrap subject keys and re-index blind indexes, resumably.

``rotate`` moves everything to the active (highest) master version in committed batches;
stopping it at any point and running it again continues with what is left. Blind indexes of
the old and the new version stay side by side (lookups try every configured version) until
``retire`` removes an old version, which it does only when nothing uses it any more.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from tortoise import Tortoise
from tortoise.expressions import Subquery
from tortoise.functions import Count
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from audit.events import Actor, Event, Outcome, record
from crypto.fields import secret_fields_of
from crypto.vault import Vault, location_of, reseal_secret
from leads.contacts import CONTACT_FIELDS, index_rows
from leads.models import ContactIndex, Lead

Progress = Callable[[int], None]


@dataclass(frozen=True)
class KeyStatus:
    active_version: int
    configured_versions: list[int]
    subject_keys: dict[int, int]
    index_entries: dict[int, int]
    leads_to_reindex: int

    @property
    def keys_to_rewrap(self) -> int:
        return sum(n for v, n in self.subject_keys.items() if v != self.active_version)


def _needing_reindex(active: int) -> QuerySet[Lead]:
    """Leads with contact indexes of an older version but none of the active one."""
    indexed = Subquery(ContactIndex.filter(key_version=active).values("lead_id"))
    older = Subquery(ContactIndex.filter(key_version__not=active).values("lead_id"))
    return Lead.filter(id__in=older).exclude(id__in=indexed)


async def status(vault: Vault) -> KeyStatus:
    active = vault.keyring.active_version
    rows = (
        await ContactIndex.annotate(n=Count("id"))
        .group_by("key_version")
        .values("key_version", "n")
    )
    entries = {int(row["key_version"]): int(row["n"]) for row in rows}
    return KeyStatus(
        active_version=active,
        configured_versions=vault.keyring.versions,
        subject_keys=await vault.keystore.status(),
        index_entries=entries,
        leads_to_reindex=await _needing_reindex(active).count(),
    )


async def reindex(vault: Vault, batch_size: int = 500, on_batch: Progress | None = None) -> int:
    """Add active-version blind indexes to every lead that lacks them; resumable.

    Pages by lead id, so a shredded lead (whose values can no longer be read, and whose old
    indexes go with its erasure) is stepped over rather than ending the run.
    """
    active = vault.keyring.active_version
    done = 0
    last_id: uuid.UUID | None = None
    while True:
        pending = _needing_reindex(active)
        if last_id is not None:
            pending = pending.filter(id__gt=last_id)
        leads = await pending.order_by("id").limit(batch_size)
        if not leads:
            return done
        last_id = leads[-1].id
        keys = await vault.subject_keys([lead.id for lead in leads])
        rows: list[ContactIndex] = []
        for lead in leads:
            key = keys.get(lead.id)
            if key is None:
                continue
            clear = {
                field: vault.open_value(Lead, field, lead.id, getattr(lead, field), key)
                for field in CONTACT_FIELDS
            }
            rows += [r for r in index_rows(lead.id, clear) if r.key_version == active]
        async with in_transaction("default"):
            await ContactIndex.bulk_create(rows)
        done += len(leads)
        if on_batch:
            on_batch(len(leads))


async def reseal_secrets(vault: Vault, batch_size: int = 500) -> int:
    """Re-encrypt every secret column (sealed under a master-derived key, not a subject
    key) that is not yet under the active master version. Resumable: rows already moved
    are skipped by their version header."""
    moved = 0
    for models in Tortoise.apps.values():
        for model in models.values():
            for field in secret_fields_of(model):
                offset = 0
                while True:
                    rows = (
                        await model.all()
                        .order_by(model._meta.pk_attr)
                        .offset(offset)
                        .limit(batch_size)
                    )
                    if not rows:
                        break
                    offset += len(rows)
                    for row in rows:
                        blob = getattr(row, field)
                        location = location_of(model, field, row.pk)
                        fresh = reseal_secret(vault, location, blob) if blob else None
                        if fresh is not None:
                            await model.filter(pk=row.pk).update(**{field: fresh})
                            moved += 1
    return moved


async def rotate(vault: Vault, batch_size: int = 500, on_batch: Progress | None = None) -> int:
    """Re-wrap subject keys, re-encrypt secrets, then re-index; returns rows moved."""
    rewrapped = await vault.keystore.rewrap(batch_size, on_batch)
    resealed = await reseal_secrets(vault, batch_size)
    reindexed = await reindex(vault, batch_size, on_batch)
    await _job_event(
        "keys.rotation.completed",
        active_version=vault.keyring.active_version,
        subject_keys=rewrapped,
        secrets=resealed,
        leads_reindexed=reindexed,
    )
    return rewrapped + resealed + reindexed


async def _job_event(action: str, **counts: int) -> None:
    """The job's audit event, with its counts."""
    await record(Event(action, Outcome.SUCCESS, Actor.operator(), details=dict(counts)))


class VersionInUse(RuntimeError):
    pass


async def retire(vault: Vault, version: int) -> int:
    """Drop the blind indexes of an old master version; refuses while subject keys are still
    wrapped under it, or while a lead has no index of the active version yet."""
    current = await status(vault)
    if version == current.active_version:
        raise VersionInUse(f"master key version {version} is the active version")
    if current.subject_keys.get(version):
        raise VersionInUse(
            f"{current.subject_keys[version]} subject keys are still wrapped under version "
            f"{version}: run `leadvault keys rotate` first"
        )
    if current.leads_to_reindex:
        raise VersionInUse(
            f"{current.leads_to_reindex} leads are not yet indexed under the active version: "
            "run `leadvault keys rotate` first"
        )
    deleted: int = await ContactIndex.filter(key_version=version).delete()
    await _job_event("keys.version.retired", version=version, blind_indexes=deleted)
    return deleted
