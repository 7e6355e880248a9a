"""The webhook types: an endpoint (never its secret, which is shown once when made), its
deliveries and each delivery's attempts."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from compliance.events import log
from compliance.events.models import WebhookAttempt as AttemptRow
from compliance.events.models import WebhookDelivery as DeliveryRow
from compliance.events.models import WebhookEndpoint as EndpointRow
from identity import clock
from schema.context import Context
from schema.enums import WebhookDeliveryStatus, WebhookEventType


@strawberry.type(
    description="One try: when, the HTTP status (null when none came back), how long it "
    "took and, when it failed without a status, why in a word. Never the response body."
)
class WebhookAttempt:
    attempted_at: datetime
    status_code: int | None
    latency_ms: int
    error: str | None

    @classmethod
    def of(cls, row: AttemptRow) -> WebhookAttempt:
        return cls(
            attempted_at=row.attempted_at,
            status_code=row.status_code,
            latency_ms=row.latency_ms,
            error=row.error,
        )


@strawberry.type(description="One event to one endpoint, with every attempt at it.")
class WebhookDelivery:
    id: strawberry.ID
    event_id: strawberry.ID = strawberry.field(description="Also the webhook-id header.")
    event_type: WebhookEventType
    status: WebhookDeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    finished_at: datetime | None
    attempt_log: list[WebhookAttempt]

    @classmethod
    def of(cls, row: DeliveryRow, attempts: list[AttemptRow]) -> WebhookDelivery:
        return cls(
            id=strawberry.ID(str(row.id)),
            event_id=strawberry.ID(str(row.event_id)),
            event_type=WebhookEventType(row.event.type),
            status=WebhookDeliveryStatus(row.status),
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at if row.status == "pending" else None,
            created_at=row.created_at,
            finished_at=row.finished_at,
            attempt_log=[WebhookAttempt.of(a) for a in attempts],
        )


async def deliveries_of(rows: list[DeliveryRow]) -> list[WebhookDelivery]:
    attempts = await log.attempts_of([row.id for row in rows])
    return [WebhookDelivery.of(row, attempts.get(row.id, [])) for row in rows]


@strawberry.type(description="Where events are sent, signed with its secret.")
class WebhookEndpoint:
    id: strawberry.ID
    url: str
    description: str
    event_types: list[WebhookEventType] = strawberry.field(
        description="The types sent here; empty means every type."
    )
    enabled: bool
    disabled_reason: str | None = strawberry.field(
        description="admin, gone (the receiver answered 410) or failing (every attempt "
        "failed for five days)."
    )
    failing_since: datetime | None
    previous_secret_until: datetime | None = strawberry.field(
        description="During a rotation, the old secret signs beside the new one until then."
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: EndpointRow) -> WebhookEndpoint:
        now = clock.now()
        overlap = row.previous_until if row.previous_until and row.previous_until > now else None
        return cls(
            id=strawberry.ID(str(row.id)),
            url=row.url,
            description=row.description,
            event_types=[WebhookEventType(t) for t in row.event_types],
            enabled=row.enabled,
            disabled_reason=row.disabled_reason,
            failing_since=row.failing_since,
            previous_secret_until=overlap,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @strawberry.field(description="Newest first, with their attempts.")
    async def deliveries(
        self,
        info: strawberry.Info[Context],
        status: WebhookDeliveryStatus | None = None,
        before: datetime | None = None,
        first: int = 20,
    ) -> list[WebhookDelivery]:
        rows = await log.deliveries(
            info.context.principal,
            uuid.UUID(str(self.id)),
            status=status.value if status else None,
            before=before,
            limit=first,
        )
        return await deliveries_of(rows)
