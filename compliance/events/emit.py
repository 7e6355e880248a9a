"""Writing events in the caller's transaction, numbered in their stream, with a pending
delivery for each enabled webhook endpoint that wants them."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise import connections

from compliance.events.models import DomainEvent, EventStream, WebhookDelivery, WebhookEndpoint
from compliance.events.types import EventType, check_data
from core import bulk, commit_hooks
from core.ids import new_id


@dataclass(frozen=True, slots=True)
class NewEvent:
    type: EventType
    stream: str
    data: Mapping[str, Any] = field(default_factory=dict)
    lead_id: uuid.UUID | None = None


def lead_event(event_type: EventType, lead_id: uuid.UUID, **data: Any) -> NewEvent:
    """An event in the lead's stream (its id in ``data`` as ``leadId``)."""
    return NewEvent(event_type, f"lead:{lead_id}", {"leadId": str(lead_id), **data}, lead_id)


def request_event(event_type: EventType, request_id: uuid.UUID, **data: Any) -> NewEvent:
    return NewEvent(event_type, f"request:{request_id}", {"requestId": str(request_id), **data})


async def emit(events: Sequence[NewEvent], now: datetime) -> list[DomainEvent]:
    """Write ``events`` inside the caller's transaction. Each gets the next number in its
    stream; endpoints enabled now and wanting its type each get a pending delivery."""
    if not events:
        return []
    for event in events:
        check_data(event.type, event.data)
    counts = Counter(event.stream for event in events)
    last = await _take_sequences(counts)
    given: Counter[str] = Counter()
    rows: list[DomainEvent] = []
    for event in events:
        given[event.stream] += 1
        rows.append(
            DomainEvent(
                id=new_id(),
                type=event.type.value,
                occurred_at=now,
                stream=event.stream,
                sequence=last[event.stream] - counts[event.stream] + given[event.stream],
                lead_id=event.lead_id,
                data=dict(event.data),
            )
        )
    await DomainEvent.bulk_create(rows)
    await _queue_deliveries(rows, now)
    await _announce([str(row.id) for row in rows if row.lead_id is not None])
    return rows


CHANNEL = "leadvault_events"
"""The PostgreSQL channel that carries committed lead events' ids to every API process."""
NOTIFY_IDS = 200
"""Ids per notification (PostgreSQL's payload limit is 8,000 bytes)."""


async def _announce(ids: list[str]) -> None:
    """Tell subscribers, once the events have committed: on PostgreSQL with NOTIFY (sent
    by the database at commit, to every process listening), on SQLite to this process."""
    if not ids:
        return
    db = connections.get("default")
    if db.capabilities.dialect == "postgres":
        for start in range(0, len(ids), NOTIFY_IDS):
            payload = ",".join(ids[start : start + NOTIFY_IDS])
            await db.execute_query_dict("SELECT pg_notify($1, $2)", [CHANNEL, payload])
    else:
        commit_hooks.after_commit(db, ids)


async def _take_sequences(counts: Counter[str]) -> dict[str, int]:
    """Move each stream's counter on by its count in one statement; returns the last
    number each stream gave. Streams in sorted order, so concurrent transactions lock their
    rows in the same order and never deadlock."""
    db = connections.get("default")
    dialect = db.capabilities.dialect
    streams = sorted(counts)
    groups: list[str] = []
    values: list[Any] = []
    for stream in streams:
        groups.append(f"({', '.join(bulk.marks(dialect, 2, len(values) + 1))})")
        values += [stream, counts[stream]]
    table = EventStream._meta.db_table
    sql = (
        f'INSERT INTO "{table}" ("stream", "last_sequence") VALUES {", ".join(groups)} '  # noqa: S608
        f'ON CONFLICT ("stream") DO UPDATE SET "last_sequence" = '
        f'"{table}"."last_sequence" + excluded."last_sequence" '
        'RETURNING "stream", "last_sequence"'
    )
    rows = await db.execute_query_dict(sql, values)
    return {row["stream"]: int(row["last_sequence"]) for row in rows}


async def _queue_deliveries(events: Sequence[DomainEvent], now: datetime) -> None:
    endpoints = await WebhookEndpoint.filter(enabled=True).only("id", "event_types")
    deliveries = [
        WebhookDelivery(
            id=new_id(),
            endpoint_id=endpoint.id,
            event_id=event.id,
            next_attempt_at=now,
            created_at=now,
        )
        for event in events
        for endpoint in endpoints
        if not endpoint.event_types or event.type in endpoint.event_types
    ]
    if deliveries:
        await WebhookDelivery.bulk_create(deliveries)
