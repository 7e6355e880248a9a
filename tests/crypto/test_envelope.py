from __future__ import annotations

import os

import pytest

from crypto.envelope import (
    HEADER_BYTES,
    CiphertextError,
    Location,
    key_version_of,
    open_sealed,
    seal,
)

KEY = bytes(range(32))
HERE = Location("lead", "email", "9b1d7c1e-0000-4000-8000-000000000001")


def test_a_sealed_value_opens_with_the_same_key_and_location() -> None:
    blob = seal(KEY, 3, HERE, "ada@example.com")
    assert open_sealed(KEY, blob, HERE) == "ada@example.com"
    assert key_version_of(blob, HERE) == 3


def test_the_ciphertext_holds_no_plaintext_and_never_repeats() -> None:
    first, second = seal(KEY, 1, HERE, "ada@example.com"), seal(KEY, 1, HERE, "ada@example.com")
    assert b"ada@example.com" not in first
    assert first != second  # a fresh random nonce each time


@pytest.mark.parametrize(
    "moved",
    [
        Location("lead", "phone", HERE.row_id),
        Location("lead", "email", "9b1d7c1e-0000-4000-8000-000000000002"),
        Location("stage_change", "email", HERE.row_id),
    ],
)
def test_a_ciphertext_moved_to_another_row_or_column_fails(moved: Location) -> None:
    blob = seal(KEY, 1, HERE, "ada@example.com")
    with pytest.raises(CiphertextError) as raised:
        open_sealed(KEY, blob, moved)
    assert "authentication" in raised.value.reason


def test_an_edited_ciphertext_fails() -> None:
    blob = bytearray(seal(KEY, 1, HERE, "ada@example.com"))
    blob[HEADER_BYTES + 2] ^= 0x01
    with pytest.raises(CiphertextError):
        open_sealed(KEY, bytes(blob), HERE)


def test_an_edited_key_version_fails_even_with_the_right_key() -> None:
    blob = bytearray(seal(KEY, 1, HERE, "ada@example.com"))
    blob[4] = 2  # header claims version 2; the version is authenticated
    with pytest.raises(CiphertextError):
        open_sealed(KEY, bytes(blob), HERE)


@pytest.mark.parametrize("length", [0, 5, HEADER_BYTES + 15])
def test_a_truncated_ciphertext_fails_clearly(length: int) -> None:
    blob = seal(KEY, 1, HERE, "ada@example.com")[:length]
    with pytest.raises(CiphertextError) as raised:
        open_sealed(KEY, blob, HERE)
    assert raised.value.reason == "ciphertext is truncated"


def test_the_wrong_key_fails() -> None:
    blob = seal(KEY, 1, HERE, "ada@example.com")
    with pytest.raises(CiphertextError):
        open_sealed(os.urandom(32), blob, HERE)


def test_an_unknown_format_version_fails() -> None:
    blob = bytearray(seal(KEY, 1, HERE, "ada@example.com"))
    blob[0] = 9
    with pytest.raises(CiphertextError) as raised:
        open_sealed(KEY, bytes(blob), HERE)
    assert raised.value.reason == "unknown ciphertext format"


def test_errors_name_the_column_but_never_the_value() -> None:
    blob = seal(KEY, 1, HERE, "ada@example.com")
    with pytest.raises(CiphertextError) as raised:
        open_sealed(KEY, blob, Location("lead", "phone", HERE.row_id))
    assert str(raised.value).startswith("lead.phone:")
    assert "ada" not in str(raised.value)
