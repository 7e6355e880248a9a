from __future__ import annotations

import base64
import hashlib
import hmac
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from crypto.blind_index import BlindIndexer, IndexKind
from crypto.keyring import (
    HKDF_SALT,
    EnvironmentKeySource,
    FileKeySource,
    Keyring,
    KeyringError,
    create_key_file,
    load_keyring,
)

K1, K2 = bytes([1]) * 32, bytes([2]) * 32


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def test_environment_keys_are_versioned_and_the_highest_is_active() -> None:
    keys = EnvironmentKeySource(f"1:{_b64(K1)},2:{_b64(K2)}").load()
    keyring = Keyring(keys)
    assert keyring.versions == [1, 2]
    assert keyring.active_version == 2
    assert keyring.master_key(1) == K1


def test_a_lone_environment_key_is_version_one() -> None:
    assert EnvironmentKeySource(_b64(K1)).load() == {1: K1}


@pytest.mark.parametrize(
    "value", ["1:not-base64!", f"1:{_b64(b'short')}", f"0:{_b64(K1)}", f"1:{_b64(K1)},1:{_b64(K2)}"]
)
def test_malformed_environment_keys_are_refused_without_echoing_them(value: str) -> None:
    with pytest.raises(KeyringError) as raised:
        EnvironmentKeySource(value).load()
    assert str(raised.value).startswith("LEADVAULT_MASTER_KEY:")
    assert _b64(K1) not in str(raised.value)


def test_purpose_keys_are_hkdf_sha256_of_the_master_key() -> None:
    expected = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=HKDF_SALT, info=b"leadvault/secrets/v1"
    ).derive(K1)
    keyring = Keyring({1: K1})
    assert keyring.derive("secrets") == expected
    assert keyring.derive("secrets") != keyring.derive("blind-index/email")


def test_the_keyring_never_prints_a_key() -> None:
    assert _b64(K1) not in repr(Keyring({1: K1}))
    assert K1.hex() not in repr(EnvironmentKeySource(_b64(K1)))


def test_production_refuses_to_start_without_a_master_key(tmp_path: Path) -> None:
    with pytest.raises(KeyringError) as raised:
        load_keyring({}, tmp_path, development=False)
    assert "LEADVAULT_MASTER_KEY" in str(raised.value)
    assert not (tmp_path / "master.key").exists()


def test_development_creates_an_owner_only_key_file_and_says_so(tmp_path: Path) -> None:
    keyring, message = load_keyring({}, tmp_path, development=True)
    path = tmp_path / "master.key"

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "created a development master key file" in message
    again, message_again = load_keyring({}, tmp_path, development=True)
    assert again.master_key(1) == keyring.master_key(1)
    assert message_again.startswith("master keys from key file")


def test_a_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    source = create_key_file(tmp_path / "master.key")
    os.chmod(source.path, 0o644)
    with pytest.raises(KeyringError) as raised:
        source.load()
    assert "0600" in str(raised.value)


def test_adding_a_version_keeps_the_old_ones(tmp_path: Path) -> None:
    source = create_key_file(tmp_path / "master.key")
    first = source.load()[1]

    assert source.add_version() == 2

    keys = FileKeySource(source.path).load()
    assert keys[1] == first
    assert sorted(keys) == [1, 2]
    assert stat.S_IMODE(source.path.stat().st_mode) == 0o600


def test_the_environment_wins_over_a_key_file(tmp_path: Path) -> None:
    create_key_file(tmp_path / "master.key")
    keyring, message = load_keyring({"LEADVAULT_MASTER_KEY": _b64(K2)}, tmp_path, development=True)
    assert keyring.master_key(1) == K2
    assert "LEADVAULT_MASTER_KEY" in message


def test_email_blind_index_is_hmac_of_the_normalised_value() -> None:
    keyring = Keyring({1: K1})
    key = keyring.derive("blind-index/email")
    expected = hmac.new(key, b"ada@example.com", hashlib.sha256).hexdigest()

    assert BlindIndexer(keyring).digest(IndexKind.EMAIL, "  ADA@example.com ") == expected


def test_phone_blind_index_uses_e164_and_skips_unparseable_numbers() -> None:
    indexer = BlindIndexer(Keyring({1: K1}))
    assert indexer.digest(IndexKind.PHONE, "+49 30 1234567") == indexer.digest(
        IndexKind.PHONE, "0049301234567"
    )
    assert indexer.digest(IndexKind.PHONE, "call me") is None


def test_blind_indexes_differ_by_kind_and_by_key_version() -> None:
    indexer = BlindIndexer(Keyring({1: K1, 2: K2}))
    digests = indexer.digests(IndexKind.EMAIL, "ada@example.com")
    assert sorted(digests) == [1, 2]
    assert digests[1] != digests[2]
    assert indexer.digest(IndexKind.EMAIL, "+4930123456") != indexer.digest(
        IndexKind.PHONE, "+4930123456"
    )
