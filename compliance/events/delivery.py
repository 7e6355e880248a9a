"""Delivering webhooks: the loop the job worker runs beside its scheduled jobs.

Every ``poll`` it claims due deliveries (a lease on each, so several workers never send the
same one at once), posts them concurrently with a 15-second limit each, and records every
attempt: when, the status code and the time it took, never the response body. What happens
next follows :mod:`compliance.events.schedule`. Receivers must accept a delivery more than
once (a worker killed after sending and before recording sends it again): ``webhook-id``
stays the same across attempts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpcore
import orjson
from tortoise import connections
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from compliance.events import endpoint_state
from compliance.events.addresses import AddressRefused, GuardedBackend, Network
from compliance.events.models import DomainEvent, WebhookAttempt, WebhookDelivery
from compliance.events.schedule import DISABLE_AFTER, next_attempt, parse_retry_after
from compliance.events.secrets import signing_secrets
from compliance.events.signing import signed_headers
from core import bulk
from core.metrics import WEBHOOK_ATTEMPTS, WEBHOOK_SECONDS

log = logging.getLogger("leadvault.webhooks")
BODY_READ_LIMIT = 64 * 1024
"""At most this much of a response is read (and thrown away) before the connection is let go."""


@dataclass(frozen=True, slots=True)
class DeliveryOptions:
    allow: tuple[Network, ...] = ()
    timeout: float = 15.0
    concurrency: int = 16
    batch: int = 200
    lease: timedelta = timedelta(minutes=2)


@dataclass(slots=True)
class DispatchReport:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0

    @property
    def total(self) -> int:
        return self.delivered + self.retrying + self.failed + self.cancelled


@dataclass(frozen=True, slots=True)
class Answer:
    status: int | None
    latency_ms: int
    error: str | None = None
    retry_after: str | None = None


@dataclass(slots=True)
class _Claimed:
    delivery: WebhookDelivery
    answer: Answer | None = None
    sent_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def body_of(event: DomainEvent) -> bytes:
    """What a receiver gets: the event's type and time, and its ids and plain fields."""
    data = {
        "eventId": str(event.id),
        "stream": event.stream,
        "sequence": event.sequence,
        **event.data,
    }
    timestamp = event.occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return orjson.dumps({"type": event.type, "timestamp": timestamp, "data": data})


class Dispatcher:
    def __init__(
        self,
        options: DeliveryOptions,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        rng: random.Random | None = None,
        backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.options = options
        self.now = now
        self.rng = rng or random.Random()
        self.holder = uuid.uuid4().hex
        self.pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl.create_default_context(),
            max_connections=options.concurrency,
            network_backend=backend or GuardedBackend(options.allow),
        )

    async def close(self) -> None:
        await self.pool.aclose()

    async def run(self, stop: asyncio.Event, poll: float) -> None:
        """Deliver until ``stop`` is set: at once while there is work, else every ``poll``."""
        while not stop.is_set():
            try:
                report = await self.deliver_due()
            except Exception as error:  # the database may be away for a moment
                log.warning("webhook dispatch failed", extra={"error": type(error).__name__})
                report = DispatchReport()
            if report.total == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), poll)

    async def deliver_due(self) -> DispatchReport:
        claimed = await self._claim()
        if not claimed:
            return DispatchReport()
        limit = asyncio.Semaphore(self.options.concurrency)

        async def send(item: _Claimed) -> None:
            async with limit:
                item.sent_at = self.now()
                item.answer = await self.send(item.delivery)

        await asyncio.gather(*(send(item) for item in claimed))
        report = DispatchReport()
        async with in_transaction("default"):  # one commit for the batch's records
            for item in claimed:
                assert item.answer is not None
                await self._record(item.delivery, item.answer, item.sent_at, report)
        return report

    async def _claim(self) -> list[_Claimed]:
        """Due deliveries, each leased to this dispatcher by a conditional update: of two
        dispatchers that see the same row due, only one changes it (the other's update finds
        it claimed once the first commits), so only one sends it."""
        now = self.now()
        candidates = (
            await WebhookDelivery.filter(status="pending", next_attempt_at__lte=now)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .order_by("next_attempt_at")
            .limit(self.options.batch)
            .values_list("id", flat=True)
        )
        if not candidates:
            return []
        db = connections.get("default")
        fields = WebhookDelivery._meta.fields_map
        marks = bulk.marks(db.capabilities.dialect, len(candidates) + 2)
        table = WebhookDelivery._meta.db_table
        async with in_transaction("default") as connection:
            rows = await connection.execute_query_dict(
                f'UPDATE "{table}" SET "claimed_until" = {marks[0]} '  # noqa: S608 - placeholders
                f'WHERE "status" = \'pending\' AND ("claimed_until" IS NULL '
                f'OR "claimed_until" < {marks[1]}) AND "id" IN ({", ".join(marks[2:])}) '
                'RETURNING "id"',
                [
                    fields["claimed_until"].to_db_value(now + self.options.lease, WebhookDelivery),
                    fields["claimed_until"].to_db_value(now, WebhookDelivery),
                    *(fields["id"].to_db_value(i, WebhookDelivery) for i in candidates),
                ],
            )
        ids = [row["id"] for row in rows]
        if not ids:
            return []
        claimed = await WebhookDelivery.filter(id__in=ids).select_related("endpoint", "event")
        return [_Claimed(row) for row in sorted(claimed, key=lambda r: r.next_attempt_at)]

    async def send(self, delivery: WebhookDelivery) -> Answer:
        endpoint, event = delivery.endpoint, delivery.event
        now = self.now()
        body = body_of(event)
        headers = {
            "content-type": "application/json",
            "user-agent": "LeadVault-Webhooks/1",
            **signed_headers(
                signing_secrets(endpoint, now), str(event.id), int(now.timestamp()), body
            ),
        }
        started = time.monotonic()
        timeout = self.options.timeout
        phases = {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}
        try:
            async with asyncio.timeout(timeout):
                async with self.pool.stream(
                    "POST",
                    endpoint.url,
                    headers=list(headers.items()),
                    content=body,
                    extensions={"timeout": phases},
                ) as response:
                    read = 0
                    async for chunk in response.aiter_stream():
                        read += len(chunk)
                        if read >= BODY_READ_LIMIT:
                            break
                    retry_after = _header(response.headers, b"retry-after")
                    return Answer(response.status, _since(started), None, retry_after)
        except AddressRefused:
            return Answer(None, _since(started), "address_refused")
        except (TimeoutError, httpcore.TimeoutException):
            return Answer(None, _since(started), "timeout")
        except httpcore.UnsupportedProtocol:
            return Answer(None, _since(started), "unsupported_url")
        except httpcore.ConnectError:
            return Answer(None, _since(started), "connect_error")
        except (httpcore.NetworkError, httpcore.ProtocolError):
            return Answer(None, _since(started), "network_error")

    async def _record(
        self, delivery: WebhookDelivery, answer: Answer, sent_at: datetime, report: DispatchReport
    ) -> None:
        now = self.now()
        await WebhookAttempt.create(
            delivery_id=delivery.id,
            attempted_at=sent_at,
            status_code=answer.status,
            latency_ms=answer.latency_ms,
            error=answer.error,
        )
        row = await WebhookDelivery.filter(id=delivery.id).select_for_update().first()
        if row is None or row.status != "pending":  # cancelled or purged meanwhile
            report.cancelled += 1
            return
        row.attempts += 1
        row.claimed_until = None
        endpoint_id = delivery.endpoint_id
        status = answer.status
        if status is not None and 200 <= status < 300:
            _finish(row, "delivered", now)
            await endpoint_state.succeeded(endpoint_id)
            WEBHOOK_ATTEMPTS.labels("delivered").inc()
            WEBHOOK_SECONDS.observe((now - delivery.event.occurred_at).total_seconds())
            report.delivered += 1
        elif status == 410:
            _finish(row, "failed", now)
            WEBHOOK_ATTEMPTS.labels("gone").inc()
            await row.save()
            await endpoint_state.disable(endpoint_id, "gone", now)
            report.failed += 1
            return
        else:
            WEBHOOK_ATTEMPTS.labels(_result_label(answer)).inc()
            wait = parse_retry_after(answer.retry_after, now) if status in (429, 503) else None
            later = next_attempt(row.attempts, now, self.rng, wait)
            if later is None:
                _finish(row, "failed", now)
                report.failed += 1
            else:
                row.next_attempt_at = later
                report.retrying += 1
            failing_since = await endpoint_state.failed(endpoint_id, sent_at)
            if now - failing_since >= DISABLE_AFTER:
                await row.save()
                await endpoint_state.disable(endpoint_id, "failing", now)
                return
        await row.save()


def _finish(row: WebhookDelivery, status: str, now: datetime) -> None:
    row.status, row.finished_at = status, now


def _result_label(answer: Answer) -> str:
    if answer.error == "address_refused":
        return "refused"
    if answer.status in (429, 503):
        return "throttled"
    return "failed"


def _header(headers: Sequence[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
