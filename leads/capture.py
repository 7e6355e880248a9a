"""Lead capture: what a website form or lead-generation integration sends with an API key.

One call creates the lead or updates the one that already has this email or phone (found
through the blind indexes), records the submission as an activity, and writes the consent
the person gave, all in one transaction. Also:

- legitimate-interest and contract purposes get their basis recorded for a new lead (an
  explicit ``granted: false`` in the submission is an objection and wins);
- ``Sec-GPC: 1`` is an opt-out of every purpose configured as opted out by Global Privacy
  Control (sale/sharing and email marketing by default): those are withdrawn and any grant
  of them in the same submission is ignored and reported;
- a purpose configured for double opt-in is not granted until the person follows the
  confirmation link emailed to them;
- a contact on the suppression list (an erased person) is refused unless the submission
  carries fresh consent, which lifts the suppression.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from tortoise.transactions import in_transaction

from audit.events import Event, Outcome, Target, record
from compliance.consent import confirmations, suppression
from compliance.consent.evidence import ConsentSource, Evidence
from compliance.consent.ledger import ConsentChange, append, basis_changes, check_changes
from compliance.consent.models import ConsentEvent
from compliance.consent.purposes import LawfulBasis, purposes
from compliance.consent.state import current_states
from compliance.events.emit import emit
from core.errors import FieldError, NotFound, ValidationFailed
from core.ids import new_id
from core.validation import text
from crypto.blind_index import IndexKind
from identity.events import actor_of
from identity.principal import Principal
from identity.scopes import ApiScope
from leads.contacts import lead_ids_with, replace_indexes, seal_lead, subject_key
from leads.details import clean_details
from leads.enums import ActivityType, Source, Stage
from leads.errors import Suppressed
from leads.events import created
from leads.followup import send_welcome
from leads.models import Activity, Lead
from leads.scoring.service import Trigger, rescore_lead
from leads.service import (
    _ensure_writable,
    _recorded,
    _sealed_change,
    auto_assign,
    changed_values,
    utcnow,
)
from leads.validation import clean_lead_fields

MAX_FORM_ID = 100


@dataclass(frozen=True, slots=True)
class CaptureRequest:
    values: Mapping[str, Any]
    consents: Sequence[ConsentChange] = ()
    form_id: str | None = None
    activity_type: ActivityType = ActivityType.FORM_SUBMIT
    activity_details: Mapping[str, Any] = field(default_factory=dict)
    gpc: bool = False
    client_address: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True, slots=True)
class CaptureResult:
    lead: Lead
    created: bool
    consent_events: list[ConsentEvent]
    awaiting_confirmation: tuple[str, ...] = ()
    opted_out_by_gpc: tuple[str, ...] = ()
    ignored_grants: tuple[str, ...] = ()
    """Grants in the submission that a Global Privacy Control signal overrode."""


def _apply_gpc(
    changes: Sequence[ConsentChange], gpc: bool
) -> tuple[list[ConsentChange], tuple[str, ...], tuple[str, ...]]:
    """The submission's changes without the purposes a GPC signal opts out of, those
    purposes, and the grants the signal overrode."""
    if not gpc:
        return list(changes), (), ()
    opted = tuple(p.name for p in purposes() if p.opted_out_by_gpc)
    ignored = tuple(c.purpose for c in changes if c.granted and c.purpose in opted)
    return [c for c in changes if c.purpose not in opted], opted, ignored


def _split_double_opt_in(
    changes: Sequence[ConsentChange],
) -> tuple[list[ConsentChange], list[ConsentChange]]:
    immediate: list[ConsentChange] = []
    later: list[ConsentChange] = []
    for change in changes:
        purpose = purposes().get(change.purpose)
        waits = change.granted and purpose is not None and purpose.double_opt_in
        (later if waits else immediate).append(change)
    return immediate, later


def _fresh_consent(changes: Sequence[ConsentChange]) -> bool:
    for change in changes:
        purpose = purposes().get(change.purpose)
        if change.granted and purpose is not None and purpose.basis is LawfulBasis.CONSENT:
            return True
    return False


def _validate(request: CaptureRequest) -> tuple[dict[str, Any], dict[str, Any], str | None]:
    values = dict(request.values)
    values.setdefault("source", Source.WEB_FORM)
    errors: list[FieldError] = []
    try:
        cleaned = clean_lead_fields(values, creating=True)
    except ValidationFailed as failure:
        errors.extend(failure.errors)
        cleaned = {}
    form_id, error = text(MAX_FORM_ID)("form_id", request.form_id)
    if error:
        errors.append(error)
    try:
        check_changes(request.consents)
    except ValidationFailed as failure:
        errors.extend(failure.errors)
    try:
        details = clean_details(request.activity_details)
    except ValidationFailed as failure:
        errors.extend(failure.errors)
        details = {}
    if request.activity_type in {ActivityType.CALL, ActivityType.MEETING, ActivityType.EMAIL_SENT}:
        errors.append(
            FieldError("activity_type", "not_a_capture", "activity_type must be the lead's own")
        )
    if "owner_id" in cleaned or "status" in cleaned:
        errors.append(
            FieldError("owner_id", "not_allowed", "a capture cannot assign or set status")
        )
    if errors:
        raise ValidationFailed(errors)
    if form_id:
        details = {**details, "form_id": form_id}
    return cleaned, details, form_id


async def _existing_lead_id(cleaned: Mapping[str, Any]) -> uuid.UUID | None:
    for field_name, kind in (("email", IndexKind.EMAIL), ("phone", IndexKind.PHONE)):
        value = cleaned.get(field_name)
        if value:
            ids = await lead_ids_with(kind, value)
            if ids:
                lead = await Lead.filter(id__in=ids).order_by("-created_at").first()
                if lead is not None:
                    return lead.id
    return None


async def capture_lead(principal: Principal, request: CaptureRequest) -> CaptureResult:
    _ensure_writable(principal, ApiScope.LEADS_CAPTURE)
    cleaned, details, form_id = _validate(request)
    changes, opted_out, ignored = _apply_gpc(request.consents, request.gpc)
    immediate, double_opt_in = _split_double_opt_in(changes)
    if double_opt_in and not cleaned.get("email"):
        raise ValidationFailed(
            [FieldError("email", "required", "email is required to confirm consent by email")]
        )
    contacts = suppression.contacts_of(cleaned)
    suppressed = await suppression.is_suppressed(contacts)
    if suppressed and not _fresh_consent(changes):
        await _record_refusal(principal)
        raise Suppressed()
    evidence = Evidence(
        source=ConsentSource.FORM if form_id else ConsentSource.API,
        source_ref=form_id,
        client_address=request.client_address,
        user_agent=request.user_agent,
    )
    existing_id = await _existing_lead_id(cleaned)
    lead_id = existing_id or new_id()
    key = await subject_key(lead_id, create=existing_id is None)
    actor = actor_of(principal)
    now = utcnow()
    async with in_transaction("default"):
        if existing_id is None:
            lead = await _create(principal, lead_id, key, cleaned, now)
            changes_now = [*immediate, *basis_changes({*(c.purpose for c in changes), *opted_out})]
        else:
            lead = await _merge(principal, existing_id, key, cleaned, now)
            changes_now = [*immediate, *await _basis_missing(lead_id, changes, opted_out)]
        await Activity.create(
            lead_id=lead.id, type=request.activity_type, occurred_at=now, details=details
        )
        lead.last_engaged_at = now
        await lead.save(update_fields=["last_engaged_at"])
        events = await append(lead.id, changes_now, evidence, actor, key=key, now=now)
        if opted_out:
            events += await append(
                lead.id,
                [ConsentChange(name, granted=False) for name in opted_out],
                replace(evidence, source=ConsentSource.GPC),
                actor,
                key=key,
                now=now,
            )
        for change in double_opt_in:
            await confirmations.request(
                lead.id, key, change, cleaned["email"], evidence, now, actor
            )
        await rescore_lead(lead.id, Trigger.CAPTURE, now)
        if existing_id is None:
            await auto_assign(principal, lead, now)
            await send_welcome(lead.id, key, cleaned.get("email"), now)
        await lead.refresh_from_db()
        if suppressed:
            await suppression.lift(contacts)
            await record(
                Event(
                    action="consent.suppression.lifted",
                    outcome=Outcome.SUCCESS,
                    actor=actor,
                    target=Target("lead", str(lead.id)),
                    details={"reason": "fresh_consent"},
                )
            )
    return CaptureResult(
        lead=lead,
        created=existing_id is None,
        consent_events=events,
        awaiting_confirmation=tuple(c.purpose for c in double_opt_in),
        opted_out_by_gpc=opted_out,
        ignored_grants=ignored,
    )


async def _basis_missing(
    lead_id: uuid.UUID, changes: Sequence[ConsentChange], opted_out: Sequence[str]
) -> list[ConsentChange]:
    """For a returning lead: the bases a new enquiry establishes, only where the ledger has
    no word yet (an earlier objection stands)."""
    known = (await current_states([lead_id])).get(lead_id, {})
    return basis_changes({*(c.purpose for c in changes), *known, *opted_out})


async def _create(
    principal: Principal, lead_id: uuid.UUID, key: bytes, cleaned: dict[str, Any], now: Any
) -> Lead:
    lead = await Lead.create(
        id=lead_id,
        **seal_lead(lead_id, key, cleaned),
        stage=Stage.LEAD,
        stage_entered_at=now,
        created_at=now,
        updated_at=now,
    )
    await replace_indexes(lead_id, cleaned)
    change = _sealed_change(
        lead_id, key, None, from_stage=None, to_stage=Stage.LEAD, changed_at=now
    )
    await change.save()
    await _recorded(principal, "lead.created", lead_id, tuple(sorted(cleaned)), via="capture")
    await emit([created(lead)], now)
    return lead


async def _merge(
    principal: Principal, lead_id: uuid.UUID, key: bytes, cleaned: dict[str, Any], now: Any
) -> Lead:
    """The submission's values replace the lead's: the person just told us, so they are
    the freshest. Fields the submission leaves out stay as they are; source stays the
    first one."""
    lead = await Lead.filter(id=lead_id).select_for_update().first()
    if lead is None:
        raise NotFound("lead")
    incoming = {k: v for k, v in cleaned.items() if v is not None and k != "source"}
    changed = changed_values(lead, key, incoming)
    lead.updated_at = now
    if changed:
        lead.update_from_dict(seal_lead(lead.id, key, changed))
        await replace_indexes(lead.id, changed)
    await lead.save(update_fields=[*changed, "updated_at"])
    await _recorded(principal, "lead.updated", lead.id, tuple(sorted(changed)), via="capture")
    return lead


async def _record_refusal(principal: Principal) -> None:
    await record(
        Event(
            action="lead.capture.refused",
            outcome=Outcome.DENIED,
            actor=actor_of(principal),
            details={"reason": "suppressed"},
        )
    )
