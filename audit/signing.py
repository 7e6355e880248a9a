"""The Ed25519 key that signs audit checkpoints, derived from the keyring (one per master
key version), so whoever holds the master key can sign and anyone with the exported public
key can check a checkpoint offline."""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crypto import signing

PURPOSE = "audit-checkpoint-ed25519"


def _private(version: int | None = None) -> tuple[int, Ed25519PrivateKey]:
    return signing.signing_key(PURPOSE, version)


def message(seq: int, head_hash: str, created_at: datetime) -> bytes:
    when = created_at.astimezone(UTC).isoformat(timespec="microseconds")
    return f"leadvault-audit-checkpoint:v1|{seq}|{head_hash}|{when}".encode()


def sign(seq: int, head_hash: str, created_at: datetime) -> tuple[int, str]:
    version, key = _private()
    return version, key.sign(message(seq, head_hash, created_at)).hex()


def public_key_hex(version: int) -> str:
    return signing.public_key_hex(PURPOSE, version)


def signature_valid(
    version: int, signature: str, seq: int, head_hash: str, created_at: datetime
) -> bool:
    try:
        _, key = _private(version)
        key.public_key().verify(bytes.fromhex(signature), message(seq, head_hash, created_at))
    except (InvalidSignature, ValueError, LookupError):
        return False
    except Exception as error:  # an unknown key version
        if type(error).__name__ == "KeyringError":
            return False
        raise
    return True
