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

from core.time import UtcDatetimeField


class AuditEvent(Model):
    """One event. ``seq`` orders the chain: ``hash`` is SHA-256 over the event's canonical
    form, which includes ``seq`` and ``prev_hash`` (the previous event's hash)."""

    id = fields.BigIntField(primary_key=True)
    seq = fields.BigIntField(null=True, unique=True)
    prev_hash = fields.CharField(max_length=64, null=True)
    hash = fields.CharField(max_length=64, null=True)
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
    subject_ids: list[str] = fields.JSONField(default=list, db_default=[])
    fields_masked: list[str] = fields.JSONField(default=list, db_default=[])
    fields_denied: list[str] = fields.JSONField(default=list, db_default=[])
    client = fields.CharField(max_length=40, null=True)

    class Meta:
        table = "audit_event"
        indexes = (
            Index(fields=("action", "occurred_at"), name="audit_event_action_idx"),
            Index(fields=("actor_id", "occurred_at"), name="audit_event_actor_idx"),
            Index(fields=("target_type", "target_id"), name="audit_event_target_idx"),
        )


class AuditSubject(Model):
    """Index from a data subject (lead id) to the events that name it, for access reports.
    Derived from ``AuditEvent.subject_ids`` (which the chain covers); verify checks that it
    holds as many rows as the events name subjects."""

    id = fields.BigIntField(primary_key=True)
    seq = fields.BigIntField()
    subject_id = fields.CharField(max_length=64)

    class Meta:
        table = "audit_subject"
        indexes = (Index(fields=("subject_id", "seq"), name="audit_subject_idx"),)


class AuditHead(Model):
    """The chain's head: one row, updated in the transaction of every append, so appends
    from any number of processes take turns and each gets the next sequence number."""

    id = fields.IntField(primary_key=True)
    seq = fields.BigIntField(default=0)
    hash = fields.CharField(max_length=64)
    checkpoint_seq = fields.BigIntField(default=0)
    checkpoint_at = UtcDatetimeField(null=True)

    class Meta:
        table = "audit_head"


class AuditCheckpoint(Model):
    """A signed statement of the chain's head: its sequence number (the count of events
    ever appended) and hash, signed with the keyring's Ed25519 audit key."""

    id = fields.BigIntField(primary_key=True)
    seq = fields.BigIntField(unique=True)
    head_hash = fields.CharField(max_length=64)
    created_at = UtcDatetimeField()
    key_version = fields.IntField()
    signature = fields.CharField(max_length=128)
    reason = fields.CharField(max_length=16)

    class Meta:
        table = "audit_checkpoint"
