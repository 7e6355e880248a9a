"""Administering webhook endpoints: register (the secret shown once), change, rotate the
secret (old and new both sign for an overlap), enable or disable, delete; the delivery log
and redelivery are in :mod:`compliance.events.log`. Admins in a session (recent MFA for
anything that shows a secret) or the operator at the shell; every change is audited, with
ids and field names only (a URL can carry a token, so it is never logged)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from tortoise.transactions import in_transaction

from audit.events import Event, Outcome, Target, record
from compliance.events import endpoint_state
from compliance.events.models import WebhookEndpoint
from compliance.events.secrets import sealed, signing_secrets
from compliance.events.signing import new_secret
from compliance.events.types import EventType
from core import validation
from core.errors import FieldError, NotFound, ValidationFailed
from identity import clock
from identity.admin import Administrator, audit_actor, authorize, require_recent_mfa
from identity.policy import AuthPolicy
from identity.principal import Principal

MAX_URL = 2048
LONGEST_OVERLAP = timedelta(days=7)
DEFAULT_OVERLAP = timedelta(hours=24)
_clean_description = validation.text(500)


@dataclass(frozen=True, slots=True)
class Issued:
    """An endpoint with its new secret, shown this once."""

    endpoint: WebhookEndpoint
    secret: str


def clean_url(url: str | None, *, allow_http: bool) -> tuple[str | None, FieldError | None]:
    """An absolute ``https`` URL (``http`` too in development), without credentials."""
    text = (url or "").strip()
    if not text:
        return None, FieldError("url", "required", "url is required")
    if len(text) > MAX_URL:
        return None, FieldError("url", "too_long", f"url must be at most {MAX_URL} characters")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None, FieldError("url", "invalid_url", "url is not a valid URL")
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes:
        return None, FieldError("url", "https_required", "url must start with https://")
    if not parts.hostname or port == 0 or any(c.isspace() for c in text):
        return None, FieldError("url", "invalid_url", "url is not a valid URL")
    if parts.username is not None or parts.password is not None or parts.fragment:
        return None, FieldError(
            "url", "invalid_url", "url may not carry a user name, password or fragment"
        )
    return text, None


def clean_event_types(names: Sequence[str] | None) -> tuple[list[str], FieldError | None]:
    known = {t.value for t in EventType}
    chosen = sorted(set(names or ()))
    unknown = [n for n in chosen if n not in known]
    if unknown:
        return [], FieldError(
            "event_types", "unknown", "event_types names a type that does not exist"
        )
    return chosen, None


def _checked(
    url: str | None, event_types: Sequence[str] | None, description: str | None, allow_http: bool
) -> tuple[str | None, list[str], str | None]:
    errors: list[FieldError] = []
    clean, problem = clean_url(url, allow_http=allow_http) if url is not None else (None, None)
    types, type_problem = clean_event_types(event_types)
    text, text_problem = _clean_description("description", description)
    errors += [p for p in (problem, type_problem, text_problem) if p is not None]
    if errors:
        raise ValidationFailed(errors)
    return clean, types, text


async def _audit(
    actor: Administrator, action: str, endpoint_id: uuid.UUID, **details: object
) -> None:
    await record(
        Event(
            action=action,
            outcome=Outcome.SUCCESS,
            actor=audit_actor(actor),
            target=Target("webhook_endpoint", str(endpoint_id)),
            details={k: v for k, v in details.items() if isinstance(v, str | int | bool)},
        )
    )


async def create(
    actor: Administrator,
    url: str,
    event_types: Sequence[str] | None,
    description: str | None,
    policy: AuthPolicy,
    *,
    allow_http: bool,
) -> Issued:
    authorize(actor)
    now = clock.now()
    require_recent_mfa(actor, policy.step_up_window, now)
    if not url:
        raise ValidationFailed([FieldError("url", "required", "url is required")])
    clean, types, text = _checked(url, event_types, description, allow_http)
    endpoint_id = uuid.uuid4()
    secret = new_secret()
    async with in_transaction("default"):
        endpoint = await WebhookEndpoint.create(
            id=endpoint_id,
            url=clean,
            description=text or "",
            event_types=types,
            secret=sealed(endpoint_id, "secret", secret),
            created_at=now,
            updated_at=now,
            created_by_id=actor.user_id if isinstance(actor, Principal) else None,
        )
        await _audit(actor, "webhook.endpoint.created", endpoint_id, types=",".join(types))
    return Issued(endpoint, secret)


async def _get(endpoint_id: uuid.UUID) -> WebhookEndpoint:
    endpoint = await WebhookEndpoint.filter(id=endpoint_id).select_for_update().first()
    if endpoint is None:
        raise NotFound("webhook endpoint")
    return endpoint


async def update(
    actor: Administrator,
    endpoint_id: uuid.UUID,
    *,
    url: str | None = None,
    event_types: Sequence[str] | None = None,
    description: str | None = None,
    allow_http: bool,
) -> WebhookEndpoint:
    """Change what is given (``event_types`` replaces the list; empty means every type)."""
    authorize(actor)
    clean, types, text = _checked(url, event_types, description, allow_http)
    async with in_transaction("default"):
        endpoint = await _get(endpoint_id)
        changed: list[str] = []
        if clean is not None and clean != endpoint.url:
            endpoint.url = clean
            changed.append("url")
        if event_types is not None and types != endpoint.event_types:
            endpoint.event_types = types
            changed.append("event_types")
        if description is not None and (text or "") != endpoint.description:
            endpoint.description = text or ""
            changed.append("description")
        if changed:
            endpoint.updated_at = clock.now()
            await endpoint.save(update_fields=[*changed, "updated_at"])
            await _audit(actor, "webhook.endpoint.updated", endpoint.id, fields=",".join(changed))
    return endpoint


async def rotate_secret(
    actor: Administrator,
    endpoint_id: uuid.UUID,
    policy: AuthPolicy,
    overlap: timedelta = DEFAULT_OVERLAP,
) -> Issued:
    """A new secret; the one it replaces keeps signing beside it for ``overlap`` (so
    receivers can change over without losing a delivery), then stops."""
    authorize(actor)
    now = clock.now()
    require_recent_mfa(actor, policy.step_up_window, now)
    if not timedelta(0) <= overlap <= LONGEST_OVERLAP:
        raise ValidationFailed(
            [FieldError("overlap_hours", "out_of_range", "overlap_hours must be 0 to 168")]
        )
    secret = new_secret()
    async with in_transaction("default"):
        endpoint = await _get(endpoint_id)
        current = signing_secrets(endpoint, now)[0]
        endpoint.previous_secret = sealed(endpoint.id, "previous_secret", current)
        endpoint.previous_until = now + overlap
        endpoint.secret = sealed(endpoint.id, "secret", secret)
        endpoint.updated_at = now
        await endpoint.save(
            update_fields=["previous_secret", "previous_until", "secret", "updated_at"]
        )
        await _audit(
            actor,
            "webhook.endpoint.secret_rotated",
            endpoint.id,
            overlap_seconds=int(overlap.total_seconds()),
        )
    return Issued(endpoint, secret)


async def set_enabled(
    actor: Administrator, endpoint_id: uuid.UUID, enabled: bool
) -> WebhookEndpoint:
    """Enable (new events are delivered from now on; ones cancelled while it was disabled
    can be redelivered one by one) or disable (pending deliveries are cancelled)."""
    authorize(actor)
    now = clock.now()
    async with in_transaction("default"):
        endpoint = await _get(endpoint_id)
        if enabled and not endpoint.enabled:
            endpoint.enabled, endpoint.disabled_reason = True, None
            endpoint.failing_since, endpoint.updated_at = None, now
            await endpoint.save(
                update_fields=["enabled", "disabled_reason", "failing_since", "updated_at"]
            )
            await _audit(actor, "webhook.endpoint.enabled", endpoint.id)
        elif not enabled and endpoint.enabled:
            await endpoint_state.disable(endpoint.id, "admin", now, audit_actor(actor))
            await endpoint.refresh_from_db()
    return endpoint


async def delete(actor: Administrator, endpoint_id: uuid.UUID) -> None:
    """Remove the endpoint with its delivery log."""
    authorize(actor)
    async with in_transaction("default"):
        endpoint = await _get(endpoint_id)
        await endpoint.delete()
        await _audit(actor, "webhook.endpoint.deleted", endpoint_id)


async def list_endpoints(actor: Administrator) -> list[WebhookEndpoint]:
    authorize(actor)
    return await WebhookEndpoint.all().order_by("created_at")


async def get(actor: Administrator, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    authorize(actor)
    endpoint = await WebhookEndpoint.get_or_none(id=endpoint_id)
    if endpoint is None:
        raise NotFound("webhook endpoint")
    return endpoint


async def needing_attention() -> list[WebhookEndpoint]:
    """Endpoints disabled by their receiver's answers (a 410, or failing for days), for the
    console to show every admin until one re-enables or deletes them."""
    return await WebhookEndpoint.filter(
        enabled=False, disabled_reason__in=("gone", "failing")
    ).order_by("updated_at")


def overlap_of(hours: int | None) -> timedelta:
    return DEFAULT_OVERLAP if hours is None else timedelta(hours=hours)
