"""Administering API keys: create (shown once, needs recent MFA), list, revoke."""

from __future__ import annotations

import uuid
from datetime import datetime

from tortoise.transactions import in_transaction

from audit.events import Outcome, Target
from core import validation
from core.errors import FieldError, NotFound, ValidationFailed
from identity import api_keys, clock
from identity.admin import Administrator, audit_actor, authorize, require_recent_mfa
from identity.events import AuthAction, auth_event
from identity.models import ApiKey
from identity.policy import AuthPolicy
from identity.principal import Principal
from identity.scopes import ApiScope

_clean_name = validation.text(80, required=True)


async def create(
    actor: Administrator,
    name: str,
    scopes: list[ApiScope],
    policy: AuthPolicy,
    expires_at: datetime | None = None,
) -> api_keys.IssuedKey:
    authorize(actor)
    now = clock.now()
    require_recent_mfa(actor, policy.step_up_window, now)
    errors: list[FieldError] = []
    clean_name, problem = _clean_name("name", name)
    if problem:
        errors.append(problem)
    if not scopes:
        errors.append(FieldError("scopes", "required", "scopes must name at least one scope"))
    if expires_at is not None and expires_at <= now:
        errors.append(FieldError("expires_at", "in_past", "expires_at must be in the future"))
    if errors:
        raise ValidationFailed(errors)
    creator = actor.user_id if isinstance(actor, Principal) else None
    async with in_transaction("default"):
        issued = await api_keys.issue(clean_name, scopes, creator, now, expires_at)
        await auth_event(
            AuthAction.API_KEY_CREATED,
            Outcome.SUCCESS,
            audit_actor(actor),
            target=Target("api_key", str(issued.key.id)),
            now=now,
            scopes=",".join(issued.key.scopes),
        )
    return issued


async def list_keys(actor: Administrator) -> list[ApiKey]:
    authorize(actor)
    return await ApiKey.all().order_by("-created_at")


async def revoke(actor: Administrator, key_id: uuid.UUID) -> ApiKey:
    authorize(actor)
    key = await ApiKey.get_or_none(id=key_id)
    if key is None:
        raise NotFound("api key")
    if key.revoked_at is not None:
        return key
    now = clock.now()
    async with in_transaction("default"):
        key.revoked_at = now
        await key.save(update_fields=["revoked_at"])
        await auth_event(
            AuthAction.API_KEY_REVOKED,
            Outcome.SUCCESS,
            audit_actor(actor),
            target=Target("api_key", str(key.id)),
            now=now,
        )
    return key
