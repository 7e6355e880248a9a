"""An endpoint's health as deliveries find it: failing since when, and disabled (by a 410,
by failing too long, or by an admin) with its pending deliveries cancelled."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from audit.events import Actor, Event, Outcome, Target, record
from compliance.events.models import WebhookDelivery, WebhookEndpoint
from core.metrics import WEBHOOK_ENDPOINTS_DISABLED

log = logging.getLogger("leadvault.webhooks")


async def succeeded(endpoint_id: uuid.UUID) -> None:
    await WebhookEndpoint.filter(id=endpoint_id, failing_since__isnull=False).update(
        failing_since=None
    )


async def failed(endpoint_id: uuid.UUID, at: datetime) -> datetime:
    """Note a failed attempt; returns since when the endpoint has failed every attempt."""
    await WebhookEndpoint.filter(id=endpoint_id, failing_since__isnull=True).update(
        failing_since=at
    )
    endpoint = await WebhookEndpoint.get(id=endpoint_id).only("id", "failing_since")
    assert endpoint.failing_since is not None
    return endpoint.failing_since


async def disable(
    endpoint_id: uuid.UUID, reason: str, now: datetime, actor: Actor | None = None
) -> int:
    """Disable the endpoint and cancel what it still had pending (returns how many). Inside
    the caller's transaction; recorded in the audit trail, the log and the metrics, and
    shown to admins in the console until one of them acts on it."""
    changed = await WebhookEndpoint.filter(id=endpoint_id, enabled=True).update(
        enabled=False, disabled_reason=reason, updated_at=now
    )
    cancelled = await WebhookDelivery.filter(endpoint_id=endpoint_id, status="pending").update(
        status="cancelled", finished_at=now, claimed_until=None
    )
    if not changed:
        return cancelled
    await record(
        Event(
            action="webhook.endpoint.disabled",
            outcome=Outcome.SUCCESS,
            actor=actor or Actor.operator(),
            target=Target("webhook_endpoint", str(endpoint_id)),
            details={"reason": reason, "cancelled": cancelled},
        ),
        now=now,
    )
    if reason != "admin":
        WEBHOOK_ENDPOINTS_DISABLED.labels(reason).inc()
        log.warning(
            "webhook endpoint disabled",
            extra={"endpoint_id": str(endpoint_id), "reason": reason, "cancelled": cancelled},
        )
    return cancelled
