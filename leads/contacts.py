"""Sealing a lead's personal values and keeping its contact blind indexes current."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from core.errors import NotFound
from crypto.blind_index import IndexKind
from crypto.vault import current_vault
from leads.models import ContactIndex, Lead

CONTACT_FIELDS: dict[str, IndexKind] = {"email": IndexKind.EMAIL, "phone": IndexKind.PHONE}


async def subject_key(lead_id: uuid.UUID, *, create: bool) -> bytes:
    """The lead's data key; a shredded (erased) lead is treated as gone."""
    key = (await current_vault().subject_keys([lead_id], create=create)).get(lead_id)
    if key is None:
        raise NotFound("lead")
    return key


def index_rows(lead_id: uuid.UUID, values: Mapping[str, Any]) -> list[ContactIndex]:
    """Blind-index rows for the email/phone in ``values`` under every key version."""
    indexer = current_vault().indexer
    rows = []
    for field, kind in CONTACT_FIELDS.items():
        value = values.get(field)
        if value:
            for version, digest in indexer.digests(kind, value).items():
                rows.append(
                    ContactIndex(
                        lead_id=lead_id, kind=kind.value, key_version=version, digest=digest
                    )
                )
    return rows


async def replace_indexes(lead_id: uuid.UUID, values: Mapping[str, Any]) -> None:
    """Re-index the contact fields present in ``values`` (inside the caller's transaction)."""
    changed = [kind.value for field, kind in CONTACT_FIELDS.items() if field in values]
    if not changed:
        return
    await ContactIndex.filter(lead_id=lead_id, kind__in=changed).delete()
    rows = index_rows(lead_id, values)
    if rows:
        await ContactIndex.bulk_create(rows)


async def lead_ids_with(kind: IndexKind, value: str) -> list[uuid.UUID]:
    """Every lead whose email/phone equals ``value`` after normalisation (any scope)."""
    digests = list(current_vault().indexer.digests(kind, value).values())
    if not digests:
        return []
    rows = await ContactIndex.filter(kind=kind.value, digest__in=digests).values_list(
        "lead_id", flat=True
    )
    return list(dict.fromkeys(rows))  # type: ignore[arg-type]


def seal_lead(lead_id: uuid.UUID, key: bytes, values: Mapping[str, Any]) -> dict[str, Any]:
    return current_vault().seal_values(Lead, lead_id, key, values)
