"""Blind indexes: exact-match lookup of encrypted values without storing them.

A blind index is HMAC-SHA256 of the normalised value under a key derived for that kind of
value (``blind-index/email``, ``blind-index/phone``) and master key version. What it reveals:
equality — two rows with the same index hold the same normalised value, and anyone holding
the index key can test a guessed value. It reveals nothing else (no prefix, order or length),
so front ends search by exact email or phone only; free-text search over personal fields is
not offered.

During an index-key rotation each value is indexed under every configured version, so
lookups keep working until the re-index finishes and the old version is retired.
"""

from __future__ import annotations

import enum
import hashlib
import hmac

from core.normalize import normalize_email, normalize_phone
from crypto.keyring import Keyring


class IndexKind(enum.StrEnum):
    EMAIL = "email"
    PHONE = "phone"


def normalise(kind: IndexKind, value: str) -> str | None:
    """The canonical form that is indexed: lower-cased email, E.164 phone."""
    if kind is IndexKind.EMAIL:
        normalized = normalize_email(value)
        return normalized or None
    return normalize_phone(value)


class BlindIndexer:
    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    def digest(self, kind: IndexKind, value: str, version: int | None = None) -> str | None:
        """Hex HMAC of the normalised value, or None when it cannot be normalised."""
        normalized = normalise(kind, value)
        if normalized is None:
            return None
        key = self.keyring.derive(f"blind-index/{kind.value}", version)
        return hmac.new(key, normalized.encode(), hashlib.sha256).hexdigest()

    def digests(self, kind: IndexKind, value: str) -> dict[int, str]:
        """The value's index under every configured master version (for lookups)."""
        found: dict[int, str] = {}
        for version in self.keyring.versions:
            digest = self.digest(kind, value, version)
            if digest is not None:
                found[version] = digest
        return found
