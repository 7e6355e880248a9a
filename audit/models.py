"""The audit event table: one row per security-relevant act, append-only.

An event names who acted (user or API key id, role, session), on what (target type and
id, field names) and how it ended; never a personal value, so erasing a data subject never
needs to touch the log.
"""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from leads.fields import UtcDatetimeField


class AuditEvent(Model):
    id = fields.BigIntField(primary_key=True)
    occurred_at = UtcDatetimeField()
    action = fields.CharField(max_length=64)
    outcome = fields.CharField(max_length=16)
    actor_type = fields.CharField(max_length=16)
    actor_id = fields.CharField(max_length=64, null=True)
    actor_role = fields.CharField(max_length=32, null=True)
    session_id = fields.CharField(max_length=36, null=True)
    request_id = fields.CharField(max_length=64, null=True)
    target_type = fields.CharField(max_length=32, null=True)
    target_id = fields.CharField(max_length=64, null=True)
    fields_touched: list[str] = fields.JSONField(default=list, source_field="fields")
    purpose = fields.CharField(max_length=64, null=True)
    mfa_age_seconds = fields.IntField(null=True)
    details: dict[str, Any] = fields.JSONField(default=dict)

    class Meta:
        table = "audit_event"
        indexes = (
            Index(fields=("action", "occurred_at"), name="audit_event_action_idx"),
            Index(fields=("actor_id", "occurred_at"), name="audit_event_actor_idx"),
            Index(fields=("target_type", "target_id"), name="audit_event_target_idx"),
        )
