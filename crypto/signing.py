"""Ed25519 signing keys with a lifecycle of their own.

Each kind of signed document (a *purpose*: audit checkpoints, erasure certificates) has a
series of key versions in the ``signing_key`` table. The newest version signs; every
version's public key stays in the table for good, so a signature can always be checked,
whatever happens to the master keys later. The private key is sealed under the master key
as a secret (``leadvault keys rotate`` re-seals it under the new master version, and
``leadvault keys retire`` refuses a master version that still seals one), and its seal also
vouches for the public key stored beside it: a public key swapped in the table no longer
matches its sealed private key and checks nothing.

Keys made before this table existed were derived from each master key version (signature
version = master version). The first use of a purpose adopts those derived keys, for every
master version still configured, as its first versions, so older signatures keep checking.
"""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from crypto.envelope import CiphertextError, key_version_of
from crypto.keyring import Keyring, KeyringError
from crypto.models import SigningKey
from crypto.vault import current_vault, location_of, open_secret, seal_secret

AUDIT_CHECKPOINTS = "audit-checkpoint-ed25519"
ERASURE_CERTIFICATES = "dsr-certificate-ed25519"
PURPOSES = (AUDIT_CHECKPOINTS, ERASURE_CERTIFICATES)
"""Every kind of document the product signs (the key series named in ``signing_key``)."""


class SigningKeyError(RuntimeError):
    """A signing key is missing, or its stored public key does not match its sealed
    private key."""


def public_hex(key: Ed25519PublicKey) -> str:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def _row_id(purpose: str, version: int) -> str:
    return f"{purpose}/v{version}"


def _new_row(purpose: str, version: int, key: Ed25519PrivateKey, now: datetime) -> SigningKey:
    row_id = _row_id(purpose, version)
    private_hex = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()).hex()
    sealed = seal_secret(
        current_vault(), location_of(SigningKey, "private_key", row_id), private_hex
    )
    return SigningKey(
        id=row_id,
        purpose=purpose,
        version=version,
        public_key=public_hex(key.public_key()),
        private_key=sealed,
        created_at=now,
    )


def _derived(keyring: Keyring, purpose: str, version: int) -> Ed25519PrivateKey:
    """The key earlier releases derived from master key ``version``."""
    return Ed25519PrivateKey.from_private_bytes(keyring.derive(purpose, version))


async def adopt(purpose: str) -> None:
    """Give ``purpose`` its first versions if it has none: the keys derived from each
    configured master version (what signed before keys had their own table)."""
    if await SigningKey.filter(purpose=purpose).exists():
        return
    keyring = current_vault().keyring
    now = datetime.now(UTC)
    rows = [_new_row(purpose, v, _derived(keyring, purpose, v), now) for v in keyring.versions]
    await SigningKey.bulk_create(rows, ignore_conflicts=True)


async def adopt_all() -> None:
    for purpose in PURPOSES:
        await adopt(purpose)


async def stored_versions(purpose: str) -> list[int]:
    rows = await SigningKey.filter(purpose=purpose).order_by("version")
    return [row.version for row in rows]


def _private(row: SigningKey) -> Ed25519PrivateKey:
    location = location_of(SigningKey, "private_key", row.id)
    key = Ed25519PrivateKey.from_private_bytes(
        bytes.fromhex(open_secret(current_vault(), location, row.private_key))
    )
    if public_hex(key.public_key()) != row.public_key:
        raise SigningKeyError(f"signing key {row.id}: the public key does not match its seal")
    return key


async def active_key(purpose: str) -> tuple[int, Ed25519PrivateKey]:
    """The newest version of ``purpose``'s key, which signs."""
    await adopt(purpose)
    row = await SigningKey.filter(purpose=purpose).order_by("-version").first()
    if row is None:
        raise SigningKeyError(f"no signing key for {purpose}")
    return row.version, _private(row)


async def public_keys(purpose: str) -> dict[int, Ed25519PublicKey]:
    """Every version's public key that its sealed private key vouches for. A version whose
    seal cannot be opened or does not match is left out, so nothing checks against it."""
    await adopt(purpose)
    keys: dict[int, Ed25519PublicKey] = {}
    for row in await SigningKey.filter(purpose=purpose).order_by("version"):
        try:
            keys[row.version] = _private(row).public_key()
        except (CiphertextError, KeyringError, SigningKeyError, ValueError):
            continue
    return keys


async def public_key_hex(purpose: str, version: int | None = None) -> str:
    """The public key of ``version`` (default: the signing version), as hex."""
    if version is None:
        _, key = await active_key(purpose)
        return public_hex(key.public_key())
    key_of = (await public_keys(purpose)).get(version)
    if key_of is None:
        raise SigningKeyError(f"no usable signing key {_row_id(purpose, version)}")
    return public_hex(key_of)


async def rotate(purpose: str, now: datetime) -> int:
    """Start a new version of ``purpose``'s key (fresh random key); returns its number.
    Earlier versions stay for checking what they signed."""
    await adopt(purpose)
    latest = await SigningKey.filter(purpose=purpose).order_by("-version").first()
    version = (latest.version if latest else 0) + 1
    await _new_row(purpose, version, Ed25519PrivateKey.generate(), now).save(force_create=True)
    return version


async def listing() -> list[dict[str, object]]:
    """Every signing key's public part, for publishing and pinning (no private values):
    whether its seal vouches for it, and which master version seals it."""
    entries: list[dict[str, object]] = []
    for row in await SigningKey.all().order_by("purpose", "version"):
        location = location_of(SigningKey, "private_key", row.id)
        try:
            _private(row)
            vouched = True
        except (CiphertextError, KeyringError, SigningKeyError, ValueError):
            vouched = False
        entries.append(
            {
                "purpose": row.purpose,
                "version": row.version,
                "algorithm": "Ed25519",
                "public_key": row.public_key,
                "created_at": row.created_at.isoformat(),
                "sealed_under_master_version": key_version_of(row.private_key, location),
                "vouched_for_by_its_seal": vouched,
            }
        )
    return entries
