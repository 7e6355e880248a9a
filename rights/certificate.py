"""Erasure certificates: what an erasure did, signed so anyone can check it offline.

The certificate is JSON: request, jurisdiction, times, approver, each subject with its
outcome and shredded key id, and each table with the fields it touched and row counts. No
personal values: ids, table and field names, counts and times only. It is signed with the
newest version of the certificate signing key (:mod:`crypto.signing`; every version's public
key is kept for good and listed by ``leadvault keys signing``); the public key travels in
the certificate, and ``leadvault dsr public-key`` prints it so it can be published and
pinned (``leadvault dsr verify-certificate FILE --public-key HEX``). Verification needs
neither the database nor the master key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from crypto import signing

PURPOSE = signing.ERASURE_CERTIFICATES
KIND = "leadvault.erasure-certificate"
ALGORITHM = "Ed25519"


async def public_key_hex(version: int | None = None) -> str:
    """The public key of ``version`` (default: the one that signs now)."""
    return await signing.public_key_hex(PURPOSE, version)


def canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


async def sign(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with its ``signature`` block."""
    unsigned = {k: v for k, v in body.items() if k != "signature"}
    version, key = await signing.active_key(PURPOSE)
    signature = key.sign(canonical(unsigned)).hex()
    return {
        **unsigned,
        "signature": {
            "algorithm": ALGORITHM,
            "key_version": version,
            "public_key": signing.public_hex(key.public_key()),
            "value": signature,
        },
    }


@dataclass(frozen=True, slots=True)
class Verdict:
    valid: bool
    reason: str
    public_key: str | None = None


def verify(document: Any, pinned_public_key: str | None = None) -> Verdict:
    """Check a certificate offline. With ``pinned_public_key`` (hex), only that key is
    accepted; without it, the certificate is checked against the key it carries."""
    if not isinstance(document, dict) or document.get("kind") != KIND:
        return Verdict(False, "not an erasure certificate")
    block = document.get("signature")
    if not isinstance(block, dict) or block.get("algorithm") != ALGORITHM:
        return Verdict(False, "no Ed25519 signature")
    public_hex, value = block.get("public_key"), block.get("value")
    if not isinstance(public_hex, str) or not isinstance(value, str):
        return Verdict(False, "the signature block is incomplete")
    if pinned_public_key is not None and public_hex.lower() != pinned_public_key.strip().lower():
        return Verdict(False, "signed by a different key than the one pinned", public_hex)
    unsigned = {k: v for k, v in document.items() if k != "signature"}
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex))
        key.verify(bytes.fromhex(value), canonical(unsigned))
    except (InvalidSignature, ValueError):
        return Verdict(False, "the signature does not match the contents", public_hex)
    return Verdict(True, "signature valid", public_hex)
