"""The event types and what each may carry.

A body holds ids, enum values, times and counts, never a personal value: every key an event
may carry is listed here, and :func:`check_data` refuses anything else before it is written.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from typing import Any


class EventType(enum.StrEnum):
    LEAD_CREATED = "lead.created"
    LEAD_STAGE_CHANGED = "lead.stage_changed"
    LEAD_SCORE_THRESHOLD_CROSSED = "lead.score_threshold_crossed"
    LEAD_ASSIGNED = "lead.assigned"
    LEAD_ERASED = "lead.erased"
    TASK_SLA_BREACHED = "task.sla_breached"
    CONSENT_CHANGED = "consent.changed"
    DSR_DUE_SOON = "dsr.due_soon"
    DSR_COMPLETED = "dsr.completed"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    """Every scheduled attempt failed, or the receiver answered 410."""
    CANCELLED = "cancelled"
    """The endpoint was disabled first."""
    PURGED = "purged"
    """Its lead was erased first."""


DATA_KEYS: Mapping[EventType, frozenset[str]] = {
    EventType.LEAD_CREATED: frozenset({"leadId", "stage", "source", "ownerId", "teamId"}),
    EventType.LEAD_STAGE_CHANGED: frozenset({"leadId", "fromStage", "toStage", "by"}),
    EventType.LEAD_SCORE_THRESHOLD_CROSSED: frozenset({"leadId", "threshold", "modelVersion"}),
    EventType.LEAD_ASSIGNED: frozenset({"leadId", "ownerId", "teamId", "previousOwnerId"}),
    EventType.LEAD_ERASED: frozenset({"leadId", "requestId"}),
    EventType.TASK_SLA_BREACHED: frozenset({"leadId", "taskId", "ownerId", "dueAt"}),
    EventType.CONSENT_CHANGED: frozenset({"leadId", "purpose", "status"}),
    EventType.DSR_DUE_SOON: frozenset({"requestId", "kind", "dueAt"}),
    EventType.DSR_COMPLETED: frozenset({"requestId", "kind", "outcome"}),
}

LEAD_EVENTS = frozenset(t for t in EventType if "leadId" in DATA_KEYS[t])

_PLAIN = re.compile(r"^[A-Za-z0-9_:.+\-]{0,64}$")
"""What a text value may look like: an id, an enum value, an ISO time (no spaces, no @)."""


class EventDataError(ValueError):
    """An event would carry a key or value it may not (a programming error: never shown to
    users, and its message names the key, never the value)."""


def check_data(event_type: EventType, data: Mapping[str, Any]) -> None:
    allowed = DATA_KEYS[event_type]
    for key, value in data.items():
        if key not in allowed:
            raise EventDataError(f"{event_type} may not carry {key!r}")
        if value is None or isinstance(value, bool | int):
            continue
        if not isinstance(value, str) or not _PLAIN.match(value):
            raise EventDataError(f"{event_type} {key!r} is not an id, enum value or time")
