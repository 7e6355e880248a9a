"""The consent ledger and what hangs off it.

``ConsentEvent`` is append-only: the code refuses to update or delete a saved event, and the
database refuses ``UPDATE`` (a trigger). ``ConsentState`` is the current state per lead and
purpose, derived from the ledger in the same transaction as each event and rebuildable from
it. Events keep ``lead_id`` without a foreign key, so the proof outlives the lead row.
"""

from __future__ import annotations

import uuid
from typing import Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from core.time import UtcDatetimeField
from crypto.fields import personal_field


class LedgerIsAppendOnly(RuntimeError):
    """Something tried to change or delete a consent event."""


class ConsentEvent(Model):
    """One grant, withdrawal or expiry of one purpose for one lead, with its evidence."""

    id = fields.BigIntField(primary_key=True)
    uid = fields.UUIDField(unique=True)
    """The id sealed evidence is bound to (known before the row is written)."""
    lead_id = fields.UUIDField()
    purpose = fields.CharField(max_length=64)
    kind = fields.CharField(max_length=16)
    basis = fields.CharField(max_length=32)
    notice_version = fields.CharField(max_length=32, null=True)
    notice_hash = fields.CharField(max_length=64, null=True)
    source = fields.CharField(max_length=32)
    source_ref = fields.CharField(max_length=100, null=True)
    method = fields.CharField(max_length=32, null=True)
    client_network = personal_field(max_length=64, category="evidence", subject_field="lead_id")
    user_agent_hash = fields.CharField(max_length=64, null=True)
    note = personal_field(max_length=500, category="free_text", subject_field="lead_id")
    occurred_at = UtcDatetimeField()
    recorded_at = UtcDatetimeField()
    actor_type = fields.CharField(max_length=16)
    actor_id = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "consent_event"
        indexes = (
            Index(fields=("lead_id", "purpose", "id"), name="consent_event_lead_idx"),
            Index(fields=("recorded_at",), name="consent_event_time_idx"),
        )

    async def save(self, *args: Any, **kwargs: Any) -> None:
        if self._saved_in_db:
            raise LedgerIsAppendOnly("consent events cannot be changed")
        await super().save(*args, **kwargs)

    async def delete(self, *args: Any, **kwargs: Any) -> None:
        raise LedgerIsAppendOnly("consent events cannot be deleted")


class ConsentState(Model):
    """The current state of one purpose for one lead: the ledger's latest word on it."""

    id = fields.BigIntField(primary_key=True)
    lead_id = fields.UUIDField()
    purpose = fields.CharField(max_length=64)
    status = fields.CharField(max_length=16)
    basis = fields.CharField(max_length=32)
    notice_version = fields.CharField(max_length=32, null=True)
    source = fields.CharField(max_length=32)
    since = UtcDatetimeField()
    expires_at = UtcDatetimeField(null=True)
    event_id = fields.BigIntField()

    class Meta:
        table = "consent_state"
        unique_together = (("lead_id", "purpose"),)
        indexes = (Index(fields=("purpose", "status", "lead_id"), name="consent_state_idx"),)


class ConsentConfirmation(Model):
    """A double opt-in waiting for the person to confirm by email. The grant is written to
    the ledger only when they do, with the evidence of the original request."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    token_hash = fields.CharField(max_length=64, unique=True)
    lead_id = fields.UUIDField()
    purpose = fields.CharField(max_length=64)
    notice_version = fields.CharField(max_length=32)
    source = fields.CharField(max_length=32)
    source_ref = fields.CharField(max_length=100, null=True)
    client_network = personal_field(max_length=64, category="evidence", subject_field="lead_id")
    user_agent_hash = fields.CharField(max_length=64, null=True)
    requested_at = UtcDatetimeField()
    expires_at = UtcDatetimeField()
    confirmed_at = UtcDatetimeField(null=True)

    class Meta:
        table = "consent_confirmation"
        indexes = (Index(fields=("lead_id",), name="consent_confirmation_lead_idx"),)


class SuppressedContact(Model):
    """A blind index of an erased person's email or phone (never the value): a capture or
    import of the same contact is refused unless it carries fresh consent."""

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharField(max_length=16)
    key_version = fields.IntField()
    digest = fields.CharField(max_length=64)
    reason = fields.CharField(max_length=32)
    reference = fields.CharField(max_length=100, null=True)
    created_at = UtcDatetimeField()

    class Meta:
        table = "suppressed_contact"
        indexes = (Index(fields=("kind", "digest"), name="suppressed_contact_idx"),)
