"""What a request's principal may read beyond its role: an active break-glass grant and a
declared purpose, both looked up once when the request is authenticated."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from compliance.access import purpose
from compliance.access.break_glass import active_grant
from compliance.access.policy import BREAK_GLASS_ROLES
from identity.principal import Principal


async def for_request(principal: Principal, declared: str | None, now: datetime) -> Principal:
    """``principal`` with its break-glass grant and declared purpose attached; raises
    :class:`purpose.PurposeRefused` for a purpose it may not act under."""
    changes: dict[str, object] = {}
    if principal.role in BREAK_GLASS_ROLES and principal.user_id is not None:
        grant = await active_grant(principal.user_id, now)
        if grant is not None:
            changes["break_glass_grant_id"] = grant.id
    if declared:
        name, subjects = await purpose.resolve(principal, declared)
        changes["purpose"] = name
        changes["purpose_subjects"] = subjects
    return dataclasses.replace(principal, **changes) if changes else principal  # type: ignore[arg-type]
