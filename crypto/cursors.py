"""Sealed pagination cursors: opaque, authenticated, bound and expiring.

A cursor positions the next page after a row: the row's sort value and id. Handing that out
in the clear would give away real lead ids to actors who see only pseudonyms, and let
anyone craft positions. So a cursor is sealed (AES-256-GCM under a key derived from the
master key) and its associated data binds it to

- the list and ordering it came from (its *kind*, e.g. ``lead:created_at:desc``), and
- the principal it was issued to (a staff member or an API key),

and it carries its expiry. A cursor from another list, another principal, an edited or
truncated cursor, or one older than :data:`LIFETIME` is refused with
:class:`core.cursors.InvalidCursor` (naming the argument, never the content).

    "c1." base64url( key version (4 bytes) | nonce (12 bytes) | ciphertext+tag )
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import struct
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.cursors import CursorExpired, InvalidCursor
from crypto.keyring import KeyringError
from crypto.vault import current_vault

PURPOSE = "pagination-cursor"
PREFIX = "c1."
LIFETIME = timedelta(hours=1)
"""How long a cursor stays usable after the page that issued it."""
_VERSION = struct.Struct(">I")
_NONCE_BYTES = 12


def _associated(kind: str, binding: str) -> bytes:
    return f"leadvault-cursor|{kind}|{binding}".encode()


def seal_cursor(
    kind: str, binding: str, value: Any, row_id: Any, now: datetime | None = None
) -> str:
    """A cursor for the row (``value``, ``row_id``) of the ``kind`` list, for ``binding``."""
    if isinstance(value, datetime):
        value = value.isoformat()
    expires = int(((now or datetime.now(UTC)) + LIFETIME).timestamp())
    payload = json.dumps([value, str(row_id), expires], separators=(",", ":")).encode()
    keyring = current_vault().keyring
    version = keyring.active_version
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(keyring.derive(PURPOSE, version)).encrypt(
        nonce, payload, _associated(kind, binding)
    )
    raw = _VERSION.pack(version) + nonce + sealed
    return PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def open_cursor(
    cursor: str,
    kind: str,
    binding: str,
    value_type: type,
    id_type: type,
    *,
    argument: str = "after",
    now: datetime | None = None,
) -> tuple[Any, Any]:
    """The (sort value, id) a cursor points at; raises :class:`InvalidCursor`."""
    try:
        if not cursor.startswith(PREFIX):
            raise InvalidCursor(argument)
        body = cursor[len(PREFIX) :]
        raw = base64.urlsafe_b64decode((body + "=" * (-len(body) % 4)).encode())
        (version,) = _VERSION.unpack_from(raw)
        nonce = raw[_VERSION.size : _VERSION.size + _NONCE_BYTES]
        key = current_vault().keyring.derive(PURPOSE, version)
        payload = AESGCM(key).decrypt(
            nonce, raw[_VERSION.size + _NONCE_BYTES :], _associated(kind, binding)
        )
        value, row_id, expires = json.loads(payload)
    except (ValueError, TypeError, struct.error, binascii.Error, InvalidTag, KeyringError):
        raise InvalidCursor(argument) from None
    if (now or datetime.now(UTC)).timestamp() > expires:
        raise CursorExpired(argument)
    try:
        if value_type is datetime:
            value = datetime.fromisoformat(value)
        row_id = uuid.UUID(row_id) if id_type is uuid.UUID else int(row_id)
    except (ValueError, TypeError):
        raise InvalidCursor(argument) from None
    return value, row_id
