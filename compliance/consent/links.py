"""Signed, expiring self-service links: a person manages their own consent without an
account.

A link token is ``lvc1.<payload>.<signature>``: the payload names the lead, the master key
version and the expiry; the signature is HMAC-SHA256 under a key derived for this purpose.
Anyone holding the link acts for that person, so links go only to the person's own email
(through the outbox), never back to staff. A link stops working when it expires, when its
master key version is retired, or when the person is erased.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from crypto.keyring import KeyringError
from crypto.vault import current_vault

LINK_KEY_PURPOSE = "consent-self-service-link"
PREFIX = "lvc1"
DEFAULT_LIFETIME = timedelta(days=30)


class InvalidLink(ValueError):
    """The link is malformed, forged, expired or no longer usable (one message for all)."""

    def __init__(self) -> None:
        super().__init__("this link is not valid or has expired")


@dataclass(frozen=True, slots=True)
class LinkClaims:
    lead_id: uuid.UUID
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(payload: str, version: int) -> bytes:
    key = current_vault().keyring.derive(LINK_KEY_PURPOSE, version)
    return hmac.new(key, f"{PREFIX}.{payload}".encode(), hashlib.sha256).digest()


def issue(lead_id: uuid.UUID, now: datetime, lifetime: timedelta = DEFAULT_LIFETIME) -> str:
    version = current_vault().keyring.active_version
    expires = int((now + lifetime).timestamp())
    payload = _b64(
        json.dumps({"l": str(lead_id), "v": version, "e": expires}, separators=(",", ":")).encode()
    )
    return f"{PREFIX}.{payload}.{_b64(_signature(payload, version))}"


def verify(token: str, now: datetime | None = None) -> LinkClaims:
    """The link's claims, or :class:`InvalidLink`. The signature is compared in constant
    time, before anything in the payload is trusted."""
    when = now or datetime.now(UTC)
    try:
        prefix, payload, signature = token.split(".")
        if prefix != PREFIX or len(token) > 512:
            raise ValueError
        claims = json.loads(_unb64(payload))
        version = int(claims["v"])
        expected = _signature(payload, version)
        if not hmac.compare_digest(expected, _unb64(signature)):
            raise ValueError
        expires_at = datetime.fromtimestamp(int(claims["e"]), UTC)
        lead_id = uuid.UUID(claims["l"])
    except (ValueError, KeyError, TypeError, KeyringError):
        raise InvalidLink() from None
    if expires_at <= when:
        raise InvalidLink()
    return LinkClaims(lead_id=lead_id, expires_at=expires_at)
