"""Secrets that belong to no lead go through the same envelope, under a master-derived key."""

from __future__ import annotations

import pytest

from crypto.envelope import CiphertextError, Location, key_version_of
from crypto.fields import secret_field, secret_fields_of
from crypto.keyring import Keyring
from crypto.keystore import SubjectKeyStore
from crypto.vault import Vault, current_vault, open_secret, reseal_secret, seal_secret
from leads.key_rotation import reseal_secrets
from leads.models import Lead

K1, K2 = bytes([1]) * 32, bytes([2]) * 32
HERE = Location("staff_user", "totp_secret", "row-1")


def _vault(keys: dict[int, bytes]) -> Vault:
    keyring = Keyring(keys)
    return Vault(keyring, SubjectKeyStore(keyring))


def test_a_secret_opens_only_at_its_own_row_and_column() -> None:
    vault = _vault({1: K1})
    blob = seal_secret(vault, HERE, "JBSWY3DPEHPK3PXP")

    assert open_secret(vault, HERE, blob) == "JBSWY3DPEHPK3PXP"
    assert b"JBSWY3DPEHPK3PXP" not in blob
    with pytest.raises(CiphertextError):
        open_secret(vault, Location("staff_user", "totp_secret", "row-2"), blob)


def test_a_secret_needs_the_master_key_it_was_sealed_under() -> None:
    blob = seal_secret(_vault({1: K1}), HERE, "seed")
    with pytest.raises(CiphertextError):
        open_secret(_vault({1: K2}), HERE, blob)


def test_rotation_reseals_a_secret_under_the_new_version_once() -> None:
    old = seal_secret(_vault({1: K1}), HERE, "seed")
    rotated = _vault({1: K1, 2: K2})

    fresh = reseal_secret(rotated, HERE, old)

    assert fresh is not None
    assert key_version_of(fresh, HERE) == 2
    assert open_secret(_vault({2: K2}), HERE, fresh) == "seed"
    assert reseal_secret(rotated, HERE, fresh) is None


def test_secret_fields_are_marked_apart_from_subject_fields() -> None:
    field = secret_field(max_length=64)
    assert field.subject_field is None
    assert field.category == "secret"
    assert secret_fields_of(Lead) == {}


async def test_rotation_with_no_secret_columns_moves_nothing() -> None:
    assert await reseal_secrets(current_vault()) == 0
