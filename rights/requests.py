"""The life of a data-subject request: receipt, assignment, extension, rejection and
completion, with the deadline of its jurisdiction and an audit event for every step.

What a request keeps: its kind, jurisdiction, times and deadlines, who worked and approved
it, and the requester's email/phone and free-text details sealed with the request's own
key (shredded when an erasure completes, so the request does not keep what it erased).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from audit.events import Actor, Event, Outcome, Target, record
from compliance.dsr.models import (
    DataSubjectRequest,
    RejectionReason,
    RequestKind,
    RequestStatus,
)
from compliance.outbox import enqueue
from core.errors import FieldError, NotFound, ValidationFailed
from crypto.blind_index import IndexKind
from crypto.vault import current_vault, location_of, seal_secret
from identity.models import StaffUser
from identity.roles import Role
from rights import deadlines
from rights.config import dsr_config
from rights.errors import RequestRefused
from rights.intake import NewRequest, validated
from rights.officers import Officer, actor_of, authorize, user_id_of

OPEN = frozenset(
    {
        RequestStatus.RECEIVED,
        RequestStatus.IDENTITY_PENDING,
        RequestStatus.VERIFIED,
        RequestStatus.IN_PROGRESS,
        RequestStatus.EXTENDED,
        RequestStatus.AWAITING_APPROVAL,
    }
)
WORKING = frozenset(
    {
        RequestStatus.VERIFIED,
        RequestStatus.IN_PROGRESS,
        RequestStatus.EXTENDED,
        RequestStatus.AWAITING_APPROVAL,
    }
)
"""Statuses in which the person's identity is proven and their data may be worked on."""


def request_event(
    action: str,
    actor: Actor,
    request: DataSubjectRequest,
    *,
    outcome: Outcome = Outcome.SUCCESS,
    fields: tuple[str, ...] = (),
    subject_ids: tuple[str, ...] = (),
    details: dict[str, str | int | bool | None] | None = None,
) -> Event:
    """An audit event about a request (ids, counts and codes only)."""
    return Event(
        action=action,
        outcome=outcome,
        actor=actor,
        target=Target("data_subject_request", str(request.id)),
        fields=fields,
        subject_ids=subject_ids,
        details=details or {},
    )


def _event(
    action: str, officer: Officer, request: DataSubjectRequest, **details: str | int | None
) -> Event:
    return request_event(
        action, actor_of(officer), request, details={"kind": request.kind.value, **details}
    )


async def receive(officer: Officer, new: NewRequest, now: datetime) -> DataSubjectRequest:
    """Log a request as received, with the deadline its jurisdiction gives."""
    authorize(officer)
    clean = validated(new, now)
    due = deadlines.initial(clean.jurisdiction, clean.received_at, dsr_config().holidays)
    request_id = uuid.uuid4()
    vault = current_vault()
    async with in_transaction("default"):
        key = (await vault.subject_keys([request_id], create=True))[request_id]
        sealed = vault.seal_values(
            DataSubjectRequest,
            request_id,
            key,
            {
                "requester_email": clean.email,
                "requester_phone": clean.phone,
                "details": clean.details,
            },
        )
        request = await DataSubjectRequest.create(
            id=request_id,
            kind=clean.kind,
            jurisdiction=clean.jurisdiction,
            status=RequestStatus.RECEIVED,
            channel=new.channel,
            received_at=clean.received_at,
            first_due_at=due.due_at,
            due_at=due.due_at,
            acknowledge_by=due.acknowledge_by,
            created_by_id=user_id_of(officer),
            created_at=now,
            updated_at=now,
            **sealed,
        )
        await record(
            _event("dsr.received", officer, request, jurisdiction=clean.jurisdiction.value), now=now
        )
    return request


async def get(officer: Officer, request_id: uuid.UUID) -> DataSubjectRequest:
    authorize(officer)
    request = await DataSubjectRequest.get_or_none(id=request_id)
    if request is None:
        raise NotFound("data_subject_request")
    return request


async def locked(officer: Officer, request_id: uuid.UUID) -> DataSubjectRequest:
    """The request, row-locked for a change inside the caller's transaction, and refused
    when another officer holds it."""
    authorize(officer)
    request = await DataSubjectRequest.filter(id=request_id).select_for_update().first()
    if request is None:
        raise NotFound("data_subject_request")
    user_id = user_id_of(officer)
    if user_id is not None and request.assigned_to_id not in (None, user_id):
        raise RequestRefused("assigned_elsewhere", "the request is assigned to another officer")
    return request


def require_status(request: DataSubjectRequest, allowed: frozenset[RequestStatus]) -> None:
    if request.status not in allowed:
        names = ", ".join(sorted(s.value for s in allowed))
        raise RequestRefused(
            "invalid_status", f"the request is {request.status.value}; this needs one of: {names}"
        )


async def save(request: DataSubjectRequest, now: datetime, *names: str) -> None:
    request.updated_at = now
    await request.save(update_fields=[*names, "updated_at"])


@dataclass(frozen=True, slots=True)
class RequestFilter:
    status: RequestStatus | None = None
    kind: RequestKind | None = None
    assigned_to_id: uuid.UUID | None = None
    open_only: bool = False
    alert: str | None = None


async def list_requests(
    officer: Officer, f: RequestFilter, now: datetime, limit: int = 100
) -> list[DataSubjectRequest]:
    """Requests, soonest due first."""
    authorize(officer)
    query = DataSubjectRequest.all()
    if f.status is not None:
        query = query.filter(status=f.status)
    if f.kind is not None:
        query = query.filter(kind=f.kind)
    if f.assigned_to_id is not None:
        query = query.filter(assigned_to_id=f.assigned_to_id)
    if f.open_only or f.alert is not None:
        query = query.filter(status__in=list(OPEN))
    if f.alert is not None:
        query = query.filter(deadline_alert(f.alert, now))
    return await query.order_by("due_at", "id").limit(limit)


def deadline_alert(alert: str, now: datetime) -> Q:
    """Open requests whose answer (or CCPA acknowledgement) is ``overdue``, or ``due_soon``
    (overdue included)."""
    if alert == "overdue":
        return Q(due_at__lt=now) | Q(acknowledge_by__lt=now, acknowledged_at=None)
    soon = now + deadlines.ALERT_WINDOW
    return Q(due_at__lte=soon) | Q(acknowledge_by__lte=soon, acknowledged_at=None)


def alert_of(request: DataSubjectRequest, now: datetime) -> str | None:
    """``overdue`` / ``due_soon`` for an open request (its answer or, under the CCPA, its
    acknowledgement), else None."""
    if request.status not in OPEN:
        return None
    alerts = {deadlines.alert_of(request.due_at, now)}
    if request.acknowledge_by is not None and request.acknowledged_at is None:
        alerts.add(deadlines.alert_of(request.acknowledge_by, now))
    for level in ("overdue", "due_soon"):
        if level in alerts:
            return level
    return None


async def assign(
    officer: Officer, request_id: uuid.UUID, assignee_id: uuid.UUID, now: datetime
) -> DataSubjectRequest:
    """Give the request to a compliance officer (any officer may reassign an open one)."""
    authorize(officer)
    assignee = await StaffUser.get_or_none(id=assignee_id)
    if assignee is None or not assignee.is_active or assignee.role != Role.COMPLIANCE_OFFICER:
        raise ValidationFailed(
            [FieldError("assignee_id", "invalid", "must be an active compliance officer")]
        )
    async with in_transaction("default"):
        request = await DataSubjectRequest.filter(id=request_id).select_for_update().first()
        if request is None:
            raise NotFound("data_subject_request")
        require_status(request, OPEN)
        request.assigned_to_id, request.assigned_at = assignee.id, now
        names = ["assigned_to_id", "assigned_at"]
        if request.status is RequestStatus.VERIFIED:
            request.status = RequestStatus.IN_PROGRESS
            names.append("status")
        await save(request, now, *names)
        await record(_event("dsr.assigned", officer, request, assignee=str(assignee.id)), now=now)
    return request


async def notify_requester(
    request: DataSubjectRequest, template: str, body: str, now: datetime
) -> None:
    """Queue a message to the requester's email (or phone) inside the caller's transaction."""
    vault = current_vault()
    key = (await vault.subject_keys([request.id])).get(request.id)
    if key is None:
        raise RequestRefused("requester_erased", "the requester's contact details were erased")
    contacts = requester_contacts(request, key)
    recipient = contacts[IndexKind.EMAIL] or contacts[IndexKind.PHONE]
    if recipient is None:
        raise RequestRefused("no_contact", "the request has no contact to write to")
    await enqueue(request.id, key, template, recipient, body, now)


async def extend(
    officer: Officer, request_id: uuid.UUID, by: int, reason: str, now: datetime
) -> DataSubjectRequest:
    """Extend the deadline once (GDPR: by up to two months, CCPA: by up to 45 days), with
    the reason recorded and a notice to the person queued in the same transaction."""
    reason = reason.strip()
    if not reason:
        raise ValidationFailed([FieldError("reason", "required", "say why it is extended")])
    if len(reason) > 1000:
        raise ValidationFailed([FieldError("reason", "too_long", "at most 1000 characters")])
    async with in_transaction("default"):
        request = await locked(officer, request_id)
        require_status(request, OPEN - {RequestStatus.AWAITING_APPROVAL})
        try:
            new_due = deadlines.extended(
                request.jurisdiction,
                request.first_due_at,
                by,
                now,
                already_extended=request.extended_at is not None,
            )
        except deadlines.ExtensionRefused as refusal:
            if str(refusal).startswith("by:"):
                raise ValidationFailed(
                    [FieldError("by", "out_of_range", str(refusal)[4:])]
                ) from None
            raise RequestRefused("extension_refused", str(refusal)) from None
        await notify_requester(
            request,
            "dsr_extension",
            "We need more time to answer your request. We will answer by "
            f"{new_due.date().isoformat()}. Reason: {reason}",
            now,
        )
        request.due_at, request.extended_at, request.extension_notified_at = new_due, now, now
        request.extension_reason = seal_secret(
            current_vault(), location_of(DataSubjectRequest, "extension_reason", request.id), reason
        )
        request.status = RequestStatus.EXTENDED
        await save(
            request,
            now,
            "due_at",
            "extended_at",
            "extension_notified_at",
            "extension_reason",
            "status",
        )
        await record(
            _event("dsr.extended", officer, request, by=by, due=new_due.date().isoformat()),
            now=now,
        )
    return request


async def reject(
    officer: Officer,
    request_id: uuid.UUID,
    reason: RejectionReason,
    note: str | None,
    now: datetime,
) -> DataSubjectRequest:
    note = (note or "").strip() or None
    if reason is RejectionReason.OTHER and note is None:
        raise ValidationFailed([FieldError("note", "required", "explain the other reason")])
    if note is not None and len(note) > 1000:
        raise ValidationFailed([FieldError("note", "too_long", "at most 1000 characters")])
    async with in_transaction("default"):
        request = await locked(officer, request_id)
        require_status(request, OPEN)
        request.status, request.rejection_reason = RequestStatus.REJECTED, reason
        request.completed_at = now
        if note is not None:
            request.rejection_note = seal_secret(
                current_vault(), location_of(DataSubjectRequest, "rejection_note", request.id), note
            )
        await save(request, now, "status", "rejection_reason", "rejection_note", "completed_at")
        await record(_event("dsr.rejected", officer, request, reason=reason.value), now=now)
    return request


def requester_contacts(
    request: DataSubjectRequest, key: bytes | None
) -> Mapping[IndexKind, str | None]:
    vault = current_vault()
    return {
        IndexKind.EMAIL: vault.open_value(
            DataSubjectRequest, "requester_email", request.id, request.requester_email, key
        ),
        IndexKind.PHONE: vault.open_value(
            DataSubjectRequest, "requester_phone", request.id, request.requester_phone, key
        ),
    }


@dataclass(frozen=True, slots=True)
class Requester:
    """What the requester gave: their contact and the request in their words
    (``[erased]`` once an erasure has completed and shredded them)."""

    email: str | None
    phone: str | None
    details: str | None


async def requester_of(officer: Officer, request_id: uuid.UUID, now: datetime) -> Requester:
    """The requester's own details, for the officer working the request; every read is
    audited (field names only)."""
    request = await get(officer, request_id)
    vault = current_vault()
    key = (await vault.subject_keys([request.id])).get(request.id)
    contacts = requester_contacts(request, key)
    details = vault.open_value(DataSubjectRequest, "details", request.id, request.details, key)
    found = Requester(contacts[IndexKind.EMAIL], contacts[IndexKind.PHONE], details)
    await record(
        request_event(
            "dsr.requester.read",
            actor_of(officer),
            request,
            fields=tuple(
                name for name in ("email", "phone", "details") if getattr(found, name) is not None
            ),
        ),
        now=now,
    )
    return found
