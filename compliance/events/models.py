"""Domain events, webhook endpoints, deliveries and their attempts."""

from __future__ import annotations

import uuid
from typing import Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from core.time import UtcDatetimeField
from crypto.fields import secret_field


class DomainEvent(Model):
    """Something that happened, once: its type, time, stream (``lead:<id>`` or
    ``request:<id>``) and its place in that stream. ``data`` holds ids, enum values and
    numbers only (:data:`compliance.events.types.DATA_KEYS` says which)."""

    id = fields.UUIDField(primary_key=True)
    type = fields.CharField(max_length=64)
    occurred_at = UtcDatetimeField()
    stream = fields.CharField(max_length=80)
    sequence = fields.BigIntField()
    lead_id = fields.UUIDField(null=True)
    data: dict[str, Any] = fields.JSONField(default=dict)

    class Meta:
        table = "domain_event"
        unique_together = (("stream", "sequence"),)
        indexes = (Index(fields=("lead_id",)), Index(fields=("occurred_at",)))


class EventStream(Model):
    """The last sequence number given in each stream (taken with an upsert that locks the
    row until commit, so two transactions never give out the same number)."""

    stream = fields.CharField(max_length=80, primary_key=True)
    last_sequence = fields.BigIntField()

    class Meta:
        table = "event_stream"


class WebhookEndpoint(Model):
    """Where events are sent. ``secret`` signs every delivery. During a rotation
    ``previous_secret`` signs too until ``previous_until``."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    url = fields.CharField(max_length=2048)
    description = fields.CharField(max_length=500, default="")
    event_types: list[str] = fields.JSONField(default=list)
    """The types delivered here (empty: every type)."""
    enabled = fields.BooleanField(default=True)
    disabled_reason = fields.CharField(max_length=32, null=True)
    """``admin``, ``gone`` (the receiver answered 410) or ``failing``."""
    secret = secret_field(max_length=200, null=False)
    previous_secret = secret_field(max_length=200)
    previous_until = UtcDatetimeField(null=True)
    failing_since = UtcDatetimeField(null=True)
    created_at = UtcDatetimeField()
    created_by_id = fields.UUIDField(null=True)
    updated_at = UtcDatetimeField()

    class Meta:
        table = "webhook_endpoint"


class WebhookDelivery(Model):
    """One event to one endpoint: ``pending`` until it is ``delivered``, ``failed`` (every
    scheduled attempt failed), ``cancelled`` (the endpoint was disabled) or ``purged`` (its
    lead was erased first)."""

    id = fields.UUIDField(primary_key=True)
    endpoint: fields.ForeignKeyRelation[WebhookEndpoint] = fields.ForeignKeyField(
        "leadvault.WebhookEndpoint", related_name="deliveries", on_delete=fields.CASCADE
    )
    event: fields.ForeignKeyRelation[DomainEvent] = fields.ForeignKeyField(
        "leadvault.DomainEvent", related_name="deliveries", on_delete=fields.CASCADE
    )
    status = fields.CharField(max_length=16, default="pending")
    attempts = fields.IntField(default=0)
    next_attempt_at = UtcDatetimeField()
    claimed_until = UtcDatetimeField(null=True)
    created_at = UtcDatetimeField()
    finished_at = UtcDatetimeField(null=True)

    endpoint_id: uuid.UUID
    event_id: uuid.UUID

    class Meta:
        table = "webhook_delivery"
        indexes = (
            Index(fields=("status", "next_attempt_at")),
            Index(fields=("endpoint_id", "created_at")),
            Index(fields=("event_id",)),
        )


class WebhookAttempt(Model):
    """One try at a delivery: when, the status code (none when no answer came), how long it
    took, and what went wrong in a word. Never the response body."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    delivery: fields.ForeignKeyRelation[WebhookDelivery] = fields.ForeignKeyField(
        "leadvault.WebhookDelivery", related_name="attempt_log", on_delete=fields.CASCADE
    )
    attempted_at = UtcDatetimeField()
    status_code = fields.IntField(null=True)
    latency_ms = fields.IntField()
    error = fields.CharField(max_length=32, null=True)

    delivery_id: uuid.UUID

    class Meta:
        table = "webhook_attempt"
        indexes = (Index(fields=("delivery_id", "attempted_at")),)
