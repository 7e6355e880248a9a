"""Bearer secrets: generation and the digests stored in their place.

Every token is 256 bits from the operating system's CSPRNG, so a plain SHA-256 digest is
enough to store it (there is nothing to brute-force); lookups compare digests, never tokens.
The prefixes tell a session from an API key from an enrolment code at a glance, in logs
and in secret scanners.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SESSION_PREFIX = "lvs_"
ENROLMENT_PREFIX = "lve_"
API_KEY_PREFIX = "lvk_"
TOKEN_BYTES = 32


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(TOKEN_BYTES)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same_digest(token: str, stored: str) -> bool:
    return hmac.compare_digest(digest(token), stored)


def new_api_key() -> tuple[str, str, str]:
    """``(token, prefix, secret)``: the token is ``lvk_<prefix>_<secret>``; the prefix is
    public (it identifies the key in lists and logs), the secret is shown once."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(TOKEN_BYTES)
    return f"{API_KEY_PREFIX}{prefix}_{secret}", prefix, secret


def split_api_key(token: str) -> tuple[str, str] | None:
    if not token.startswith(API_KEY_PREFIX):
        return None
    prefix, sep, secret = token[len(API_KEY_PREFIX) :].partition("_")
    if not sep or len(prefix) != 12 or not secret:
        return None
    return prefix, secret
