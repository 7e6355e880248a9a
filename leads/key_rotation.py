"""Master-key rotation: re-wrap subject keys and re-index blind indexes, resumably.

``rotate`` moves everything to the active (highest) master version in committed batches;
stopping it at any point and running it again continues with what is left. Blind indexes of
the old and the new version stay side by side (lookups try every configured version) until
``retire`` removes an old version, which it does only when nothing uses it any more.
Secrets (TOTP seeds, signing keys) are re-sealed under the active version too.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from tortoise import Tortoise
from tortoise.expressions import Subquery
from tortoise.functions import Count
from tortoise.models import Model
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from audit.events import Actor, Event, Outcome, record
from audit.jobs import announce, batch_event, new_run
from audit.models import AuditCheckpoint
from compliance.dsr.models import DataSubjectRequest
from crypto import signing
from crypto.envelope import key_version_of
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
    secrets: dict[int, int]

    @property
    def keys_to_rewrap(self) -> int:
        """Subject keys and secrets not yet under the active version."""
        stale = {**self.subject_keys}
        for version, n in self.secrets.items():
            stale[version] = stale.get(version, 0) + n
        return sum(n for v, n in stale.items() if v != self.active_version)


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
        secrets=await secrets_by_version(),
    )


async def reindex(
    vault: Vault,
    batch_size: int = 500,
    on_batch: Progress | None = None,
    run: str | None = None,
) -> int:
    """Add active-version blind indexes to every lead that lacks them; resumable.

    Pages by lead id, so a shredded lead (whose values can no longer be read, and whose old
    indexes go with its erasure) is stepped over rather than ending the run.
    """
    active = vault.keyring.active_version
    run = run or new_run()
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
            await record(
                batch_event(
                    "keys.reindex.batch",
                    Actor.operator(),
                    run,
                    len(leads),
                    subjects=[lead.id for lead in leads],
                    key_version=active,
                )
            )
        done += len(leads)
        if on_batch:
            on_batch(len(leads))


async def _secrets(batch_size: int) -> AsyncIterator[tuple[type[Model], str, Any, bytes]]:
    """Every sealed secret (a column sealed under a master-derived key, not a subject key)
    as (model, column, row key, ciphertext), in batches."""
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
                        .values_list(model._meta.pk_attr, field)
                    )
                    if not rows:
                        break
                    offset += len(rows)
                    for pk, blob in rows:
                        if blob:
                            yield model, field, pk, bytes(blob)


async def secrets_by_version(batch_size: int = 500) -> dict[int, int]:
    """How many secrets each master version seals (TOTP seeds, signing keys, …)."""
    counts: dict[int, int] = {}
    async for model, field, pk, blob in _secrets(batch_size):
        version = key_version_of(blob, location_of(model, field, pk))
        counts[version] = counts.get(version, 0) + 1
    return counts


async def reseal_secrets(vault: Vault, batch_size: int = 500, run: str | None = None) -> int:
    """Re-encrypt every secret that is not yet under the active master version, each with
    its audit event. Resumable: rows already moved are skipped by their version header."""
    moved = 0
    run = run or new_run()
    async for model, field, pk, blob in _secrets(batch_size):
        fresh = reseal_secret(vault, location_of(model, field, pk), blob)
        if fresh is not None:
            async with in_transaction("default"):
                await model.filter(pk=pk).update(**{field: fresh})
                await record(
                    batch_event(
                        "keys.secret.resealed",
                        Actor.operator(),
                        run,
                        1,
                        table=model._meta.db_table,
                        column=field,
                        key_version=vault.keyring.active_version,
                    )
                )
            moved += 1
    return moved


async def rotate(vault: Vault, batch_size: int = 500, on_batch: Progress | None = None) -> int:
    """Re-wrap subject keys, re-encrypt secrets, then re-index; returns rows moved. Every
    committed batch has its audit event (re-wrapped key batches are announced just before
    they commit in the key store)."""
    run = new_run()
    active = vault.keyring.active_version

    async def announce_rewrap(count: int) -> None:
        event = batch_event("keys.rewrap.batch", Actor.operator(), run, count, key_version=active)
        await announce(event)

    rewrapped = await vault.keystore.rewrap(batch_size, on_batch, announce_rewrap)
    resealed = await reseal_secrets(vault, batch_size, run)
    reindexed = await reindex(vault, batch_size, on_batch, run)
    await _job_event(
        "keys.rotation.completed",
        active_version=active,
        subject_keys=rewrapped,
        secrets=resealed,
        leads_reindexed=reindexed,
        run=run,
    )
    return rewrapped + resealed + reindexed


async def _job_event(action: str, **counts: int | str) -> None:
    """The job's audit event, with its counts."""
    await record(Event(action, Outcome.SUCCESS, Actor.operator(), details=dict(counts)))


class VersionInUse(RuntimeError):
    pass


async def _unverifiable_signatures() -> list[str]:
    """Stored signatures whose key version has no signing key on record (what retiring a
    master version must never cause)."""
    await signing.adopt_all()
    checkpoint_versions = (
        await AuditCheckpoint.all().distinct().values_list("key_version", flat=True)
    )
    used: dict[str, set[int]] = {
        signing.AUDIT_CHECKPOINTS: {int(str(v)) for v in checkpoint_versions},
        signing.ERASURE_CERTIFICATES: set(),
    }
    for text in await DataSubjectRequest.filter(certificate__isnull=False).values_list(
        "certificate", flat=True
    ):
        block = json.loads(str(text)).get("signature") or {}
        used[signing.ERASURE_CERTIFICATES].add(int(block.get("key_version", 0)))
    missing = []
    for purpose, versions in used.items():
        stored = set(await signing.stored_versions(purpose))
        missing += [f"{purpose} v{v}" for v in sorted(versions - stored)]
    return missing


async def retire(vault: Vault, version: int) -> int:
    """Drop the blind indexes of an old master version. Refuses while anything still needs
    it: subject keys wrapped or secrets (TOTP seeds, signing keys) sealed under it, a lead
    with no index of the active version yet, or a stored signature with no signing key on
    record (signing keys derived from old master versions are first put on record, so what
    they signed stays checkable after the version is gone)."""
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
    missing = await _unverifiable_signatures()
    if missing:
        raise VersionInUse(
            f"signatures made with {', '.join(missing)} have no signing key on record; "
            "retiring would leave them uncheckable"
        )
    sealed = (await secrets_by_version()).get(version, 0)
    if sealed:
        raise VersionInUse(
            f"{sealed} secrets (TOTP seeds, signing keys) are still sealed under version "
            f"{version}: run `leadvault keys rotate` first"
        )
    deleted: int = await ContactIndex.filter(key_version=version).delete()
    await _job_event("keys.version.retired", version=version, blind_indexes=deleted)
    return deleted
