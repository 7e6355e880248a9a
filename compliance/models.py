"""Compliance records kept in the main database."""

from __future__ import annotations

import uuid

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from core.time import UtcDatetimeField
from crypto.fields import personal_field, secret_field
from identity.models import StaffUser


class BreakGlassGrant(Model):
    """Time-boxed elevated read access of one member of staff. The reason is sealed: staff
    write it freely and it may name a customer."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    user: fields.ForeignKeyRelation[StaffUser] = fields.ForeignKeyField(
        "leadvault.StaffUser", related_name="break_glass_grants", on_delete=fields.RESTRICT
    )
    role = fields.CharField(max_length=32)
    reason = secret_field(max_length=1000, null=False)
    granted_at = UtcDatetimeField()
    expires_at = UtcDatetimeField()
    ended_at = UtcDatetimeField(null=True)
    use_count = fields.IntField(default=0)
    last_used_at = UtcDatetimeField(null=True)

    user_id: uuid.UUID

    class Meta:
        table = "break_glass_grant"
        indexes = (Index(fields=("user_id", "expires_at")), Index(fields=("granted_at",)))


class JobLease(Model):
    """Who runs a named job now: one row per job, taken with a conditional update, so only
    one process at a time runs it (retention, erasure)."""

    name = fields.CharField(max_length=64, primary_key=True)
    holder = fields.CharField(max_length=64)
    until = UtcDatetimeField()

    class Meta:
        table = "job_lease"


class JobRun(Model):
    """One run of a scheduled job: which process ran it, when, how it ended and what it
    did. Counts are numbers keyed by what was counted (never a personal value); ``error`` is
    the name of an exception type, never its message."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    job = fields.CharField(max_length=64)
    holder = fields.CharField(max_length=64)
    started_at = UtcDatetimeField()
    heartbeat_at = UtcDatetimeField()
    finished_at = UtcDatetimeField(null=True)
    outcome = fields.CharField(max_length=16)
    counts: dict[str, int] = fields.JSONField(default=dict)
    done = fields.IntField(null=True)
    total = fields.IntField(null=True)
    error = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "job_run"
        indexes = (Index(fields=("job", "started_at"), name="job_run_job_started_idx"),)


class OutboxMessage(Model):
    """A message to a data subject waiting for (or past) delivery. Recipient and body are
    sealed with the subject's key, so erasure makes them unreadable."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    lead_id = fields.UUIDField()
    template = fields.CharField(max_length=64)
    recipient = personal_field(max_length=254, category="contact", subject_field="lead_id")
    body = personal_field(max_length=4000, category="free_text", subject_field="lead_id")
    created_at = UtcDatetimeField()
    sent_at = UtcDatetimeField(null=True)
    attempts = fields.IntField(default=0)
    last_error = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "outbox_message"
        indexes = (Index(fields=("sent_at", "created_at"), name="outbox_pending_idx"),)
