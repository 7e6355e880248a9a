"""The Ed25519 key series that signs audit checkpoints (see :mod:`crypto.signing`): the
newest version signs, and every version's public key stays available, so a checkpoint can
be checked after any key rotation or retirement, and offline with the exported keys."""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from crypto import signing

PURPOSE = signing.AUDIT_CHECKPOINTS


def message(seq: int, head_hash: str, created_at: datetime) -> bytes:
    when = created_at.astimezone(UTC).isoformat(timespec="microseconds")
    return f"leadvault-audit-checkpoint:v1|{seq}|{head_hash}|{when}".encode()


async def sign(seq: int, head_hash: str, created_at: datetime) -> tuple[int, str]:
    version, key = await signing.active_key(PURPOSE)
    return version, key.sign(message(seq, head_hash, created_at)).hex()


async def public_keys() -> dict[int, Ed25519PublicKey]:
    """Every checkpoint key version that can check signatures."""
    return await signing.public_keys(PURPOSE)


async def public_key_hex(version: int) -> str:
    return await signing.public_key_hex(PURPOSE, version)


def signature_valid(
    keys: dict[int, Ed25519PublicKey],
    version: int,
    signature: str,
    seq: int,
    head_hash: str,
    created_at: datetime,
) -> bool:
    key = keys.get(version)
    if key is None:
        return False
    try:
        key.verify(bytes.fromhex(signature), message(seq, head_hash, created_at))
    except (InvalidSignature, ValueError):
        return False
    return True
