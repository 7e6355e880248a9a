"""Ed25519 signing keys derived from the keyring: one per purpose and master key version, so
whoever holds the master key can sign and anyone given the public key can verify offline."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from crypto.vault import current_vault


def signing_key(purpose: str, version: int | None = None) -> tuple[int, Ed25519PrivateKey]:
    """The purpose's key under ``version`` (default: the active master version)."""
    keyring = current_vault().keyring
    chosen = keyring.active_version if version is None else version
    return chosen, Ed25519PrivateKey.from_private_bytes(keyring.derive(purpose, chosen))


def public_key_hex(purpose: str, version: int | None = None) -> str:
    _, key = signing_key(purpose, version)
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
