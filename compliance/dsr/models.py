"""Data-subject requests, the leads they cover, legal holds and subject exports.

The requester's own contact details are personal data: they are sealed with a data key of
the request itself (subject id = request id), so closing an erasure request can shred them
too. Reasons staff write freely (rejection notes, extension reasons, hold reasons) may name
a person: they are sealed as secrets.
"""

from __future__ import annotations

import enum
import uuid
from typing import Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from core.time import UtcDatetimeField
from crypto.fields import personal_field, secret_field
from identity.models import StaffUser


class RequestKind(enum.StrEnum):
    ACCESS = "access"
    PORTABILITY = "portability"
    ERASURE = "erasure"
    RECTIFICATION = "rectification"
    OBJECTION = "objection"


class Jurisdiction(enum.StrEnum):
    GDPR = "gdpr"
    CCPA = "ccpa"


class RequestStatus(enum.StrEnum):
    RECEIVED = "received"
    IDENTITY_PENDING = "identity_pending"
    VERIFIED = "verified"
    IN_PROGRESS = "in_progress"
    EXTENDED = "extended"
    AWAITING_APPROVAL = "awaiting_approval"
    COMPLETED = "completed"
    REJECTED = "rejected"


class RejectionReason(enum.StrEnum):
    IDENTITY_NOT_VERIFIED = "identity_not_verified"
    MANIFESTLY_UNFOUNDED = "manifestly_unfounded"
    EXCESSIVE = "excessive"
    DUPLICATE = "duplicate"
    LEGAL_OBLIGATION = "legal_obligation"
    OTHER = "other"


class DataSubjectRequest(Model):
    """A request from a person about their data, from receipt to its answer."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    kind = fields.CharEnumField(RequestKind, max_length=16)
    jurisdiction = fields.CharEnumField(Jurisdiction, max_length=8)
    status = fields.CharEnumField(RequestStatus, max_length=20)
    requester_email = personal_field(max_length=254, category="contact")
    requester_phone = personal_field(max_length=32, category="contact")
    details = personal_field(max_length=2000, category="free_text")
    channel = fields.CharField(max_length=32)
    received_at = UtcDatetimeField()
    acknowledge_by = UtcDatetimeField(null=True)
    acknowledged_at = UtcDatetimeField(null=True)
    first_due_at = UtcDatetimeField()
    due_at = UtcDatetimeField()
    due_soon_announced_at = UtcDatetimeField(null=True)
    """When ``dsr.due_soon`` was emitted for it (once per request)."""
    extended_at = UtcDatetimeField(null=True)
    extension_reason = secret_field(max_length=1000)
    extension_notified_at = UtcDatetimeField(null=True)
    code_hash = fields.CharField(max_length=64, null=True)
    code_sent_at = UtcDatetimeField(null=True)
    code_expires_at = UtcDatetimeField(null=True)
    code_attempts = fields.IntField(default=0)
    verified_at = UtcDatetimeField(null=True)
    verified_by = fields.CharField(max_length=16, null=True)
    assigned_to: fields.ForeignKeyNullableRelation[StaffUser] = fields.ForeignKeyField(
        "leadvault.StaffUser", related_name="dsr_assigned", null=True, on_delete=fields.RESTRICT
    )
    assigned_to_id: uuid.UUID | None
    assigned_at = UtcDatetimeField(null=True)
    approved_by_id = fields.UUIDField(null=True)
    approved_at = UtcDatetimeField(null=True)
    rejection_reason = fields.CharEnumField(RejectionReason, max_length=32, null=True)
    rejection_note = secret_field(max_length=1000)
    outcome = fields.CharField(max_length=32, null=True)
    completed_at = UtcDatetimeField(null=True)
    certificate = fields.TextField(null=True)
    lease_until = UtcDatetimeField(null=True)
    created_by_id = fields.UUIDField(null=True)
    created_at = UtcDatetimeField()
    updated_at = UtcDatetimeField()

    class Meta:
        table = "dsr_request"
        indexes = (
            Index(fields=("status", "due_at"), name="dsr_request_status_idx"),
            Index(fields=("assigned_to_id", "status"), name="dsr_request_assignee_idx"),
        )


class SubjectOutcome(enum.StrEnum):
    PENDING = "pending"
    ERASED = "erased"
    HELD = "held"


class RequestSubject(Model):
    """A lead found to be the requester (by email or phone blind index), and what the
    request did to it. Counts are recorded with each step, so a rerun repeats nothing."""

    id = fields.BigIntField(primary_key=True)
    request: fields.ForeignKeyRelation[DataSubjectRequest] = fields.ForeignKeyField(
        "leadvault.DataSubjectRequest", related_name="subjects", on_delete=fields.CASCADE
    )
    request_id: uuid.UUID
    lead_id = fields.UUIDField()
    matched_on = fields.CharField(max_length=16)
    outcome = fields.CharEnumField(SubjectOutcome, max_length=16, default=SubjectOutcome.PENDING)
    anonymised_at = UtcDatetimeField(null=True)
    key_shredded_at = UtcDatetimeField(null=True)
    counts: dict[str, Any] = fields.JSONField(default=dict)
    hold_id = fields.UUIDField(null=True)

    class Meta:
        table = "dsr_subject"
        unique_together = (("request_id", "lead_id"),)
        indexes = (Index(fields=("lead_id",), name="dsr_subject_lead_idx"),)


class HoldScope(enum.StrEnum):
    SUBJECT = "subject"
    CATEGORY = "category"


class LegalHold(Model):
    """Data that must be kept (litigation, an authority's order) whatever erasure or
    retention would do: one lead, or a whole data category."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    scope = fields.CharEnumField(HoldScope, max_length=16)
    lead_id = fields.UUIDField(null=True)
    category = fields.CharField(max_length=32, null=True)
    reason = secret_field(max_length=1000, null=False)
    owner: fields.ForeignKeyRelation[StaffUser] = fields.ForeignKeyField(
        "leadvault.StaffUser", related_name="legal_holds", on_delete=fields.RESTRICT
    )
    owner_id: uuid.UUID
    placed_by_id = fields.UUIDField(null=True)
    placed_at = UtcDatetimeField()
    expires_at = UtcDatetimeField(null=True)
    released_at = UtcDatetimeField(null=True)
    released_by_id = fields.UUIDField(null=True)

    class Meta:
        table = "legal_hold"
        indexes = (
            Index(fields=("lead_id", "released_at"), name="legal_hold_lead_idx"),
            Index(fields=("category", "released_at"), name="legal_hold_category_idx"),
        )


class SubjectExport(Model):
    """An access or portability export: a file encrypted at rest under its own key (in the
    key store), downloadable through a short-lived signed link until it expires."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    request: fields.ForeignKeyRelation[DataSubjectRequest] = fields.ForeignKeyField(
        "leadvault.DataSubjectRequest", related_name="exports", on_delete=fields.CASCADE
    )
    request_id: uuid.UUID
    format = fields.CharField(max_length=8)
    size = fields.IntField()
    sha256 = fields.CharField(max_length=64)
    created_at = UtcDatetimeField()
    created_by_id = fields.UUIDField(null=True)
    expires_at = UtcDatetimeField()
    downloads = fields.IntField(default=0)
    last_downloaded_at = UtcDatetimeField(null=True)
    deleted_at = UtcDatetimeField(null=True)

    class Meta:
        table = "dsr_export"
        indexes = (Index(fields=("deleted_at", "expires_at"), name="dsr_export_expiry_idx"),)
