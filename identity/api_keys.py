"""API keys for service principals: created and revoked by administrators, shown once.

A key signs in as a :class:`Principal` with scopes and no role, so it can do exactly what
its scopes name and read nothing else.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from identity.models import ApiKey
from identity.scopes import ApiScope
from identity.tokens import digest, new_api_key, same_digest, split_api_key

TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class IssuedKey:
    key: ApiKey
    token: str
    """Shown once, to the administrator who created the key."""


async def issue(
    name: str,
    scopes: list[ApiScope],
    created_by: uuid.UUID | None,
    now: datetime,
    expires_at: datetime | None = None,
) -> IssuedKey:
    token, prefix, secret = new_api_key()
    key = await ApiKey.create(
        name=name,
        prefix=prefix,
        secret_hash=digest(secret),
        scopes=sorted(scope.value for scope in set(scopes)),
        created_by_id=created_by,
        created_at=now,
        expires_at=expires_at,
    )
    return IssuedKey(key, token)


async def find(token: str, now: datetime) -> ApiKey | None:
    parts = split_api_key(token)
    if parts is None:
        return None
    prefix, secret = parts
    key = await ApiKey.get_or_none(prefix=prefix)
    if key is None or not same_digest(secret, key.secret_hash):
        return None
    if key.revoked_at is not None or (key.expires_at is not None and now >= key.expires_at):
        return None
    if key.last_used_at is None or now - key.last_used_at >= TOUCH_EVERY:
        key.last_used_at = now
        await ApiKey.filter(id=key.id).update(last_used_at=now)
    return key


def scopes_of(key: ApiKey) -> frozenset[ApiScope]:
    known = {scope.value for scope in ApiScope}
    return frozenset(ApiScope(value) for value in key.scopes if value in known)
