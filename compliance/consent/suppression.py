"""The suppression list: blind indexes of erased people's emails and phones.

After an erasure the person's contact details are gone, but the company must not quietly
re-acquire them from the next form or list import. Their blind indexes (HMACs, never the
values) stay here; a capture or import of a matching contact is refused unless it carries
fresh consent, in which case the entry is lifted and the lift is audited.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from tortoise.expressions import Q

from compliance.consent.models import SuppressedContact
from crypto.blind_index import IndexKind
from crypto.vault import current_vault

MAX_REFERENCE = 100


def _digests(contacts: Mapping[IndexKind, str | None]) -> list[tuple[IndexKind, int, str]]:
    indexer = current_vault().indexer
    found = []
    for kind, value in contacts.items():
        if value:
            for version, digest in indexer.digests(kind, value).items():
                found.append((kind, version, digest))
    return found


async def suppress(
    contacts: Mapping[IndexKind, str | None], reason: str, reference: str | None = None
) -> int:
    """Add the contacts' blind indexes (under every configured key version)."""
    digests = [(kind.value, version, digest) for kind, version, digest in _digests(contacts)]
    return await suppress_indexes(digests, reason, reference)


async def suppress_indexes(
    digests: Iterable[tuple[str, int, str]], reason: str, reference: str | None = None
) -> int:
    """Add already computed indexes (kind, key version, digest): what an erasure copies from
    the lead's own contact index before deleting it, so no value is needed."""
    now = datetime.now(UTC)
    rows = [
        SuppressedContact(
            kind=kind,
            key_version=version,
            digest=digest,
            reason=reason,
            reference=reference,
            created_at=now,
        )
        for kind, version, digest in digests
    ]
    if rows:
        await SuppressedContact.bulk_create(rows)
    return len(rows)


def _matching(contacts: Mapping[IndexKind, str | None]) -> Q | None:
    conditions = [
        Q(kind=kind.value, digest=digest) for kind, _version, digest in _digests(contacts)
    ]
    if not conditions:
        return None
    return Q(*conditions, join_type=Q.OR)


async def is_suppressed(contacts: Mapping[IndexKind, str | None]) -> bool:
    condition = _matching(contacts)
    return condition is not None and await SuppressedContact.filter(condition).exists()


async def suppressed_digests(digests: Iterable[str]) -> set[str]:
    """Which of these digests (any kind) are suppressed, in one query (for imports)."""
    wanted = list(set(digests))
    if not wanted:
        return set()
    rows = await SuppressedContact.filter(digest__in=wanted).values_list("digest", flat=True)
    return {str(r) for r in rows}


async def lift(contacts: Mapping[IndexKind, str | None]) -> int:
    """Remove the contacts' entries (the person consented again). Returns rows removed."""
    condition = _matching(contacts)
    if condition is None:
        return 0
    return await SuppressedContact.filter(condition).delete()


def contacts_of(values: Mapping[str, object]) -> dict[IndexKind, str | None]:
    email, phone = values.get("email"), values.get("phone")
    return {
        IndexKind.EMAIL: email if isinstance(email, str) else None,
        IndexKind.PHONE: phone if isinstance(phone, str) else None,
    }
