"""The ciphertext format of every encrypted column.

    version (1 byte, 0x01) | key version (4 bytes, big-endian) | nonce (12 bytes) | ciphertext+tag

AES-256-GCM with a random 96-bit nonce. The associated data binds the ciphertext to where it
lives: ``table | column | row id | key version``. A ciphertext copied to another row or
column, truncated, or edited fails to open with :class:`CiphertextError` and never yields
wrong data.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_VERSION = 1
NONCE_BYTES = 12
TAG_BYTES = 16
_HEADER = struct.Struct(">BI")
HEADER_BYTES = _HEADER.size + NONCE_BYTES
KEY_BYTES = 32


class CiphertextError(ValueError):
    """A stored ciphertext cannot be opened. The message names the column, never a value."""

    def __init__(self, location: Location, reason: str) -> None:
        super().__init__(f"{location.table}.{location.column}: {reason}")
        self.location = location
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Location:
    """Where a ciphertext belongs; it is authenticated as associated data."""

    table: str
    column: str
    row_id: str

    def associated_data(self, key_version: int) -> bytes:
        return f"{self.table}|{self.column}|{self.row_id}|{key_version}".encode()


def seal(key: bytes, key_version: int, location: Location, plaintext: str) -> bytes:
    return seal_bytes(key, key_version, location, plaintext.encode())


def seal_bytes(key: bytes, key_version: int, location: Location, plaintext: bytes) -> bytes:
    if len(key) != KEY_BYTES:
        raise ValueError("encryption keys are 32 bytes")
    nonce = os.urandom(NONCE_BYTES)
    body = AESGCM(key).encrypt(nonce, plaintext, location.associated_data(key_version))
    return _HEADER.pack(FORMAT_VERSION, key_version) + nonce + body


def key_version_of(blob: bytes, location: Location) -> int:
    """The key version a ciphertext was sealed under (to pick the key before opening)."""
    if len(blob) < HEADER_BYTES + TAG_BYTES:
        raise CiphertextError(location, "ciphertext is truncated")
    format_version, key_version = _HEADER.unpack_from(blob)
    if format_version != FORMAT_VERSION:
        raise CiphertextError(location, "unknown ciphertext format")
    return int(key_version)


def open_sealed(key: bytes, blob: bytes, location: Location) -> str:
    return open_sealed_bytes(key, blob, location).decode()


def open_sealed_bytes(key: bytes, blob: bytes, location: Location) -> bytes:
    key_version = key_version_of(blob, location)
    nonce = blob[_HEADER.size : HEADER_BYTES]
    try:
        plaintext = AESGCM(key).decrypt(
            nonce, blob[HEADER_BYTES:], location.associated_data(key_version)
        )
    except InvalidTag:
        raise CiphertextError(
            location, "ciphertext failed authentication (edited, moved or wrong key)"
        ) from None
    return plaintext
