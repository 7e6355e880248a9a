"""The delivery log admins read (each delivery with its attempts: time, status code,
latency, never a response body), redelivery by hand, and purging what an erasure makes
undeliverable."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from tortoise.expressions import Subquery
from tortoise.transactions import in_transaction

from audit.events import Event, Outcome, Target, record
from compliance.events.models import DomainEvent, WebhookAttempt, WebhookDelivery
from compliance.events.types import DeliveryStatus
from core.errors import FieldError, NotFound, ValidationFailed
from core.ids import new_id
from identity import clock
from identity.admin import Administrator, audit_actor, authorize

STATUSES = tuple(status.value for status in DeliveryStatus)
PAGE = 50


async def deliveries(
    actor: Administrator,
    endpoint_id: uuid.UUID,
    *,
    status: str | None = None,
    before: datetime | None = None,
    limit: int = PAGE,
) -> list[WebhookDelivery]:
    """An endpoint's deliveries, newest first, with their events."""
    authorize(actor)
    if status is not None and status not in STATUSES:
        raise ValidationFailed([FieldError("status", "unknown", "status is not a known status")])
    query = WebhookDelivery.filter(endpoint_id=endpoint_id)
    if status is not None:
        query = query.filter(status=status)
    if before is not None:
        query = query.filter(created_at__lt=before)
    return (
        await query.order_by("-created_at", "-id")
        .limit(max(1, min(limit, 200)))
        .select_related("event")
    )


async def attempts_of(delivery_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[WebhookAttempt]]:
    found: dict[uuid.UUID, list[WebhookAttempt]] = defaultdict(list)
    for attempt in await WebhookAttempt.filter(delivery_id__in=list(delivery_ids)).order_by(
        "attempted_at"
    ):
        found[attempt.delivery_id].append(attempt)
    return found


async def redeliver(actor: Administrator, delivery_id: uuid.UUID) -> WebhookDelivery:
    """Send a delivery's event to its endpoint again, as a new delivery due now (same
    ``webhook-id``, so a receiver that has it already can tell)."""
    authorize(actor)
    now = clock.now()
    async with in_transaction("default"):
        original = await WebhookDelivery.filter(id=delivery_id).select_related("endpoint").first()
        if original is None:
            raise NotFound("webhook delivery")
        problem = None
        if original.status in ("pending", "purged"):
            problem = FieldError(
                "delivery_id", original.status, f"a {original.status} delivery cannot be sent again"
            )
        elif not original.endpoint.enabled:
            problem = FieldError(
                "delivery_id", "endpoint_disabled", "enable the endpoint before redelivering"
            )
        if problem is not None:
            raise ValidationFailed([problem])
        again = await WebhookDelivery.create(
            id=new_id(),
            endpoint_id=original.endpoint_id,
            event_id=original.event_id,
            next_attempt_at=now,
            created_at=now,
        )
        await record(
            Event(
                action="webhook.delivery.redelivered",
                outcome=Outcome.SUCCESS,
                actor=audit_actor(actor),
                target=Target("webhook_endpoint", str(original.endpoint_id)),
                details={"delivery": str(original.id), "redelivery": str(again.id)},
            )
        )
    return again


async def purge_for_leads(lead_ids: Sequence[uuid.UUID], now: datetime) -> int:
    """Inside an erasure's transaction: every undelivered delivery of an event about these
    leads is purged (never sent). Returns how many; the certificate counts them."""
    if not lead_ids:
        return 0
    events = DomainEvent.filter(lead_id__in=list(lead_ids)).values_list("id", flat=True)
    return await WebhookDelivery.filter(event_id__in=Subquery(events), status="pending").update(
        status="purged", finished_at=now, claimed_until=None
    )
