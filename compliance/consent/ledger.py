"""Appending to the consent ledger: checked changes with their evidence, one event each,
the state moved with them (:mod:`compliance.consent.state`) and an audit event naming the
purpose, never the evidence.

Every function that writes runs inside the caller's transaction, so a consent change
commits with the lead change it belongs to, or not at all.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from audit.events import Actor, Event, Outcome, Target, record_many
from compliance.consent.evidence import (
    ConsentKind,
    ConsentSource,
    Evidence,
    client_network,
    user_agent_hash,
)
from compliance.consent.models import ConsentEvent, ConsentState
from compliance.consent.purposes import LawfulBasis, Purpose, purposes
from compliance.consent.state import (
    STATE_COLUMNS,
    current_states,
    move_state,
    state_values,
)
from compliance.events.emit import NewEvent, emit, lead_event
from compliance.events.types import EventType
from core.bulk import insert_rows
from core.errors import FieldError, ValidationFailed
from core.ids import new_id
from crypto.vault import current_vault

MAX_NOTE = 500
MAX_SOURCE_REF = 100


@dataclass(frozen=True, slots=True)
class ConsentChange:
    purpose: str
    granted: bool
    notice_version: str | None = None


def basis_changes(excluding: Iterable[str] = ()) -> list[ConsentChange]:
    """Grants of every legitimate-interest and contract purpose (what a new enquiry
    establishes), leaving out ``excluding`` (purposes the person already answered)."""
    skip = set(excluding)
    return [
        ConsentChange(p.name, granted=True)
        for p in purposes()
        if p.basis is not LawfulBasis.CONSENT and p.name not in skip
    ]


def check_changes(changes: Sequence[ConsentChange], field: str = "consents") -> None:
    """Every purpose is configured and every notice version is one of its versions."""
    errors: list[FieldError] = []
    seen: set[str] = set()
    for change in changes:
        purpose = purposes().get(change.purpose)
        if purpose is None:
            errors.append(FieldError(f"{field}.purpose", "unknown_purpose", "no such purpose"))
        elif change.purpose in seen:
            errors.append(FieldError(f"{field}.purpose", "repeated", "a purpose appears twice"))
        elif change.granted and purpose.notice_version(change.notice_version) is None:
            errors.append(
                FieldError(
                    f"{field}.noticeVersion",
                    "unknown_notice",
                    "noticeVersion is not a version of that purpose's notice",
                )
            )
        seen.add(change.purpose)
    if errors:
        raise ValidationFailed(errors)


def _check_evidence(evidence: Evidence) -> None:
    errors = []
    if evidence.note is not None and len(evidence.note) > MAX_NOTE:
        errors.append(FieldError("note", "too_long", f"note must be at most {MAX_NOTE} characters"))
    if evidence.source_ref is not None and len(evidence.source_ref) > MAX_SOURCE_REF:
        errors.append(
            FieldError(
                "sourceRef", "too_long", f"sourceRef must be at most {MAX_SOURCE_REF} characters"
            )
        )
    if errors:
        raise ValidationFailed(errors)


def event_values(
    lead_id: uuid.UUID,
    key: bytes | None,
    purpose: Purpose,
    kind: ConsentKind,
    notice_version: str | None,
    evidence: Evidence,
    actor: Actor,
    now: datetime,
) -> dict[str, Any]:
    """The columns of a ledger row, its evidence sealed with the subject's key (``key``
    None: the subject was erased, so no evidence is kept)."""
    uid = new_id()  # time-ordered: a bulk import appends to the ledger's unique index
    notice = purpose.notice_version(notice_version) if kind is ConsentKind.GRANTED else None
    sealed: dict[str, Any] = {"client_network": None, "note": None}
    if key is not None:
        sealed = current_vault().seal_values(
            ConsentEvent,
            uid,
            key,
            {"client_network": client_network(evidence.client_address), "note": evidence.note},
        )
    return {
        "uid": uid,
        "lead_id": lead_id,
        "purpose": purpose.name,
        "kind": kind.value,
        "basis": purpose.basis.value,
        "notice_version": notice.version if notice else None,
        "notice_hash": notice.digest if notice else None,
        "source": evidence.source.value,
        "source_ref": evidence.source_ref,
        "method": evidence.method.value if evidence.method else None,
        "user_agent_hash": user_agent_hash(evidence.user_agent),
        "occurred_at": evidence.occurred_at or now,
        "recorded_at": now,
        "actor_type": actor.type.value,
        "actor_id": actor.id,
        **sealed,
    }


def open_evidence(event: ConsentEvent, field: str, key: bytes | None) -> str | None:
    """One sealed evidence field in clear (sealed to the event's ``uid``, which is known
    before the row is written); ``[erased]`` when the subject's key is gone."""
    return current_vault().open_value(ConsentEvent, field, event.uid, getattr(event, field), key)


def build_event(
    lead_id: uuid.UUID,
    key: bytes | None,
    purpose: Purpose,
    kind: ConsentKind,
    notice_version: str | None,
    evidence: Evidence,
    actor: Actor,
    now: datetime,
) -> ConsentEvent:
    """An unsaved ledger row (see :func:`event_values`)."""
    return ConsentEvent(
        **event_values(lead_id, key, purpose, kind, notice_version, evidence, actor, now)
    )


EVENT_COLUMNS = (
    "uid",
    "lead_id",
    "purpose",
    "kind",
    "basis",
    "notice_version",
    "notice_hash",
    "source",
    "source_ref",
    "method",
    "client_network",
    "user_agent_hash",
    "note",
    "occurred_at",
    "recorded_at",
    "actor_type",
    "actor_id",
)


async def append(
    lead_id: uuid.UUID,
    changes: Sequence[ConsentChange],
    evidence: Evidence,
    actor: Actor,
    *,
    key: bytes | None,
    now: datetime | None = None,
    purpose_of_request: str | None = None,
) -> list[ConsentEvent]:
    """Record ``changes`` for one lead (inside the caller's transaction) and move its state.

    A withdrawal of something not granted is skipped when the state already says so (a
    Global Privacy Control signal on every visit would otherwise fill the ledger). Each
    event also leaves an audit event naming the purpose, never the evidence.
    """
    check_changes(changes)
    _check_evidence(evidence)
    when = now or datetime.now(UTC)
    current = (await current_states([lead_id])).get(lead_id, {})
    written: list[ConsentEvent] = []
    for change in changes:
        purpose = purposes().get(change.purpose)
        assert purpose is not None
        kind = ConsentKind.GRANTED if change.granted else ConsentKind.WITHDRAWN
        existing = current.get(change.purpose)
        if kind is ConsentKind.WITHDRAWN and existing is not None and not existing.allows(when):
            continue
        event = build_event(
            lead_id, key, purpose, kind, change.notice_version, evidence, actor, when
        )
        await event.save()
        await move_state(event)
        written.append(event)
    if written:
        await record_many([_audit_event(e, actor, purpose_of_request) for e in written], now=when)
        await emit(_changed([(e.lead_id, e.purpose, e.kind) for e in written]), when)
    return written


def _changed(written: Iterable[tuple[uuid.UUID, str, str]]) -> list[NewEvent]:
    """``consent.changed`` for each answer of the person's own (purposes on the consent
    basis); the bases a new enquiry establishes come with ``lead.created``."""
    found = []
    for lead_id, name, kind in written:
        purpose = purposes().get(name)
        if purpose is not None and purpose.basis is LawfulBasis.CONSENT:
            found.append(
                lead_event(EventType.CONSENT_CHANGED, lead_id, purpose=name, status=str(kind))
            )
    return found


def _audit_event(event: ConsentEvent, actor: Actor, purpose: str | None) -> Event:
    return Event(
        action=f"consent.{event.kind}",
        outcome=Outcome.SUCCESS,
        actor=actor,
        target=Target("lead", str(event.lead_id)),
        purpose=purpose,
        details={
            "purpose": event.purpose,
            "basis": event.basis,
            "source": event.source,
            "notice_version": event.notice_version,
            "event_id": event.id,
        },
    )


async def history(lead_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[ConsentEvent]]:
    """Every ledger event of these leads, oldest first."""
    found: dict[uuid.UUID, list[ConsentEvent]] = defaultdict(list)
    if lead_ids:
        for row in await ConsentEvent.filter(lead_id__in=list(lead_ids)).order_by("id"):
            found[row.lead_id].append(row)
    return found


async def expire(state: ConsentState, actor: Actor, now: datetime) -> ConsentEvent | None:
    """Write the expiry of a lapsed grant (inside the caller's transaction). The state row
    is re-read under a lock, so two job runs never both write it."""
    current = (
        await ConsentState.filter(id=state.id, status=ConsentKind.GRANTED.value)
        .select_for_update()
        .first()
    )
    purpose = purposes().get(state.purpose)
    if current is None or purpose is None or current.expires_at is None:
        return None
    if current.expires_at > now:
        return None
    event = build_event(
        current.lead_id,
        None,
        purpose,
        ConsentKind.EXPIRED,
        None,
        Evidence(source=ConsentSource.SYSTEM, occurred_at=current.expires_at),
        actor,
        now,
    )
    await event.save()
    await move_state(event)
    await record_many([_audit_event(event, actor, None)], now=now)
    await emit(_changed([(event.lead_id, event.purpose, event.kind)]), now)
    return event


@dataclass(frozen=True, slots=True)
class NewLeadConsent:
    """What one new lead's consent is, for :func:`append_for_new_leads`."""

    lead_id: uuid.UUID
    key: bytes
    changes: Sequence[ConsentChange]
    evidence: Evidence


async def append_for_new_leads(
    entries: Sequence[NewLeadConsent], actor: Actor, now: datetime, *, batch_size: int = 2000
) -> int:
    """Bulk :func:`append` for leads that have no ledger entries yet (an import, seeding),
    inside the caller's transaction: events in bulk, then their states in bulk, and one
    audit event naming the subjects and the counts. Returns the events written."""
    for entry in entries:
        check_changes(entry.changes)
        _check_evidence(entry.evidence)
    events = [
        event_values(
            entry.lead_id,
            entry.key,
            purpose,
            ConsentKind.GRANTED if change.granted else ConsentKind.WITHDRAWN,
            change.notice_version,
            entry.evidence,
            actor,
            now,
        )
        for entry in entries
        for change in entry.changes
        if (purpose := purposes().get(change.purpose)) is not None
    ]
    for start in range(0, len(events), batch_size):
        chunk = events[start : start + batch_size]
        await insert_rows(
            ConsentEvent, EVENT_COLUMNS, [[e[c] for c in EVENT_COLUMNS] for e in chunk]
        )
        ids = dict(
            await ConsentEvent.filter(uid__in=[e["uid"] for e in chunk]).values_list("uid", "id")
        )
        for event in chunk:
            event["id"] = ids[event["uid"]]
        # New leads have no state yet and each purpose appears once per lead, so every
        # event is its purpose's latest word.
        await insert_rows(ConsentState, STATE_COLUMNS, [state_values(e) for e in chunk])
    if events:
        kinds: dict[str, int] = defaultdict(int)
        for event in events:
            kinds[event["kind"]] += 1
        await record_many(
            [
                Event(
                    action="consent.recorded",
                    outcome=Outcome.SUCCESS,
                    actor=actor,
                    subject_ids=tuple(str(e.lead_id) for e in entries),
                    details={"events": len(events), **kinds},
                )
            ],
            now=now,
        )
        await emit(_changed((e["lead_id"], e["purpose"], e["kind"]) for e in events), now)
    return len(events)
