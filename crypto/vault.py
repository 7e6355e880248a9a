"""Sealing and opening personal fields with the subject's data key.

Writes: services call :meth:`Vault.seal_values` before handing values to the ORM, which turns
every personal value into a ciphertext bound to its table, column and row. The column type
refuses plaintext, so a personal value can never be written in the clear by mistake.

Reads: :meth:`Vault.open_value` decrypts one field of one row with the subject's data key;
when the key has been shredded the value reads as :data:`ERASED`, everywhere.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from tortoise.models import Model

from crypto.blind_index import BlindIndexer
from crypto.envelope import Location, key_version_of, open_sealed, seal
from crypto.fields import personal_fields_of
from crypto.keyring import Keyring
from crypto.keystore import SubjectKeyStore

ERASED = "[erased]"
"""What every personal field of a crypto-shredded subject reads as."""

DATA_KEY_VERSION = 1
"""Version of the per-subject data key; subject keys are re-wrapped, never re-keyed."""


class VaultNotConfigured(RuntimeError):
    pass


def location_of(model: type[Model], field_name: str, row_id: object) -> Location:
    field = personal_fields_of(model)[field_name]
    return Location(model._meta.db_table, field.source_field or field_name, str(row_id))


class Vault:
    def __init__(self, keyring: Keyring, keystore: SubjectKeyStore) -> None:
        self.keyring = keyring
        self.keystore = keystore
        self.indexer = BlindIndexer(keyring)

    async def subject_keys(
        self, subject_ids: Iterable[uuid.UUID], *, create: bool = False
    ) -> dict[uuid.UUID, bytes]:
        ids = {str(s): s for s in subject_ids}
        if create:
            found = await self.keystore.load_or_create(ids)
        else:
            found = await self.keystore.load(ids)
        return {ids[k]: v for k, v in found.items()}

    def seal_values(
        self,
        model: type[Model],
        row_id: object,
        data_key: bytes,
        values: Mapping[str, Any],
    ) -> dict[str, Any]:
        """``values`` with every personal field replaced by its ciphertext."""
        personal = personal_fields_of(model)
        sealed = dict(values)
        for name, value in values.items():
            if name in personal and isinstance(value, str):
                location = location_of(model, name, row_id)
                sealed[name] = seal(data_key, DATA_KEY_VERSION, location, value)
        return sealed

    def open_value(
        self,
        model: type[Model],
        field_name: str,
        row_id: object,
        blob: bytes | None,
        data_key: bytes | None,
    ) -> str | None:
        if blob is None:
            return None
        if data_key is None:
            return ERASED
        return open_sealed(data_key, blob, location_of(model, field_name, row_id))


SECRETS_PURPOSE = "secrets"


def seal_secret(vault: Vault, location: Location, value: str) -> bytes:
    """Seal a secret that belongs to no subject under the active master-derived key."""
    version = vault.keyring.active_version
    return seal(vault.keyring.derive(SECRETS_PURPOSE, version), version, location, value)


def open_secret(vault: Vault, location: Location, blob: bytes) -> str:
    version = key_version_of(blob, location)
    return open_sealed(vault.keyring.derive(SECRETS_PURPOSE, version), blob, location)


def reseal_secret(vault: Vault, location: Location, blob: bytes) -> bytes | None:
    """The secret sealed under the active master version, or None if it already is."""
    if key_version_of(blob, location) == vault.keyring.active_version:
        return None
    return seal_secret(vault, location, open_secret(vault, location, blob))


_vault: Vault | None = None


def install_vault(vault: Vault | None) -> None:
    """Make ``vault`` the process's vault (done once at start-up, and by tests)."""
    global _vault
    _vault = vault


def current_vault() -> Vault:
    if _vault is None:
        raise VaultNotConfigured("the encryption vault is not configured")
    return _vault


async def shred_subject(subject_id: uuid.UUID) -> bool:
    """Crypto-shred a data subject: delete their data key, so every encrypted field of theirs
    reads as :data:`ERASED` everywhere, including in old backups of the main database. True
    if a key was deleted; idempotent."""
    return await current_vault().keystore.shred(str(subject_id))
