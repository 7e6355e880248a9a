"""The stored ciphertext format, pinned: a value sealed before any change to the format must
still open after it, and what ``seal`` writes is exactly the documented layout."""

from __future__ import annotations

import struct

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from crypto import envelope
from crypto.envelope import Location

KEY = bytes(range(32))
LOCATION = Location("lead", "email", "6f1c2a3e-0000-4000-8000-000000000001")
# 0x01 | key version 7 (4 bytes, big-endian) | nonce 100…111 | AES-256-GCM of
# "ada@example.com" under associated data "lead|email|<row id>|7", tag appended
STORED = bytes.fromhex(
    "01000000076465666768696a6b6c6d6e6f297fbf261c9137f34e0e3ac6b90a078c1a2a92529b60a6af5fecdf8d79ba20"
)


def test_a_value_sealed_in_the_stored_format_opens() -> None:
    assert envelope.key_version_of(STORED, LOCATION) == 7
    assert envelope.open_sealed(KEY, STORED, LOCATION) == "ada@example.com"


def test_sealing_writes_version_key_version_nonce_then_the_aead_body() -> None:
    blob = envelope.seal(KEY, 7, LOCATION, "ada@example.com")

    version, key_version = struct.unpack(">BI", blob[:5])
    nonce, body = blob[5:17], blob[17:]
    associated = b"lead|email|6f1c2a3e-0000-4000-8000-000000000001|7"

    assert (version, key_version) == (1, 7)
    assert len(body) == len("ada@example.com") + 16
    assert AESGCM(KEY).decrypt(nonce, body, associated) == b"ada@example.com"


def test_each_seal_draws_a_fresh_nonce() -> None:
    nonces = {envelope.seal(KEY, 1, LOCATION, "same")[5:17] for _ in range(50)}
    assert len(nonces) == 50


def test_an_empty_string_seals_and_opens() -> None:
    blob = envelope.seal(KEY, 1, LOCATION, "")

    assert len(blob) == 1 + 4 + 12 + 16
    assert envelope.open_sealed(KEY, blob, LOCATION) == ""


def test_a_refusal_names_the_column_and_keeps_where_it_happened() -> None:
    edited = STORED[:-1] + bytes([STORED[-1] ^ 1])

    with pytest.raises(envelope.CiphertextError) as refused:
        envelope.open_sealed(KEY, edited, LOCATION)

    assert refused.value.location == LOCATION
    assert str(refused.value) == (
        "lead.email: ciphertext failed authentication (edited, moved or wrong key)"
    )


def test_a_key_of_the_wrong_length_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"^encryption keys are 32 bytes$"):
        envelope.seal(KEY[:16], 1, LOCATION, "ada@example.com")
