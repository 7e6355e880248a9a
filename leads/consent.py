"""Consent operations on a lead: staff recording what a person told them, the person's own
self-service link, and double opt-in confirmation. Each runs in one transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from audit.events import Actor, Event, Outcome, Target, record
from compliance.consent import confirmations, links
from compliance.consent.config import consent_config
from compliance.consent.evidence import ConsentSource, Evidence, EvidenceMethod
from compliance.consent.ledger import ConsentChange, append
from compliance.consent.models import ConsentEvent
from compliance.consent.purposes import Purpose, purposes
from compliance.consent.state import CurrentConsent, current_states
from compliance.outbox import enqueue
from core.errors import FieldError, NotFound, ValidationFailed
from core.validation import text
from crypto.vault import current_vault
from identity.events import actor_of
from identity.principal import Principal
from leads.contacts import subject_key
from leads.models import Lead
from leads.repository import LeadRepository
from leads.service import _ensure_writable, utcnow

LINK_TEMPLATE = "consent_self_service"


@dataclass(frozen=True, slots=True)
class StaffEvidence:
    method: EvidenceMethod
    note: str | None = None
    reference: str | None = None
    occurred_at: datetime | None = None


def _clean_staff_evidence(evidence: StaffEvidence, now: datetime) -> StaffEvidence:
    errors: list[FieldError] = []
    note, error = text(500, multiline=True)("note", evidence.note)
    if error:
        errors.append(error)
    reference, error = text(100)("reference", evidence.reference)
    if error:
        errors.append(error)
    when = evidence.occurred_at
    if when is not None and (when.tzinfo is None or when > now):
        errors.append(
            FieldError("occurred_at", "invalid_time", "occurred_at needs a zone and the past")
        )
    if errors:
        raise ValidationFailed(errors)
    return StaffEvidence(evidence.method, note, reference, when)


async def record_by_staff(
    principal: Principal, lead_id: uuid.UUID, change: ConsentChange, evidence: StaffEvidence
) -> tuple[ConsentEvent | None, Lead]:
    """A member of staff records a grant or withdrawal the person gave them, with how they
    gave it. The event is None when a withdrawal changed nothing (already not allowed)."""
    _ensure_writable(principal)
    now = utcnow()
    cleaned = _clean_staff_evidence(evidence, now)
    repository = LeadRepository(principal, writing=True)
    async with in_transaction("default"):
        lead = await repository.get_for_update(lead_id)
        if lead is None:
            raise NotFound("lead")
        key = await subject_key(lead.id, create=False)
        events = await append(
            lead.id,
            [change],
            Evidence(
                source=ConsentSource.STAFF,
                occurred_at=cleaned.occurred_at,
                source_ref=cleaned.reference,
                method=cleaned.method,
                note=cleaned.note,
            ),
            actor_of(principal),
            key=key,
            now=now,
            purpose_of_request=principal.purpose,
        )
    return (events[0] if events else None), lead


async def send_self_service_link(principal: Principal, lead_id: uuid.UUID) -> datetime:
    """Email the person a signed link to manage their own consent. The link goes only to
    their address, never back to staff (who could otherwise act as the person)."""
    _ensure_writable(principal)
    repository = LeadRepository(principal, writing=True)
    now = utcnow()
    async with in_transaction("default"):
        lead = await repository.get_for_update(lead_id)
        if lead is None:
            raise NotFound("lead")
        key = await subject_key(lead.id, create=False)
        email = current_vault().open_value(Lead, "email", lead.id, lead.email, key)
        if not email:
            raise ValidationFailed(
                [FieldError("email", "required", "the lead has no email to send a link to")]
            )
        config = consent_config()
        token = links.issue(lead.id, now, config.link_lifetime)
        body = (
            "You can see and change what you have agreed to here:\n"
            f"{config.link('consent', token)}\n"
            f"The link works until {(now + config.link_lifetime).date().isoformat()}."
        )
        await enqueue(lead.id, key, LINK_TEMPLATE, email, body, now)
        await record(
            Event(
                action="consent.link.sent",
                outcome=Outcome.SUCCESS,
                actor=actor_of(principal),
                target=Target("lead", str(lead.id)),
            )
        )
    return now + config.link_lifetime


@dataclass(frozen=True, slots=True)
class SubjectConsentView:
    lead_id: uuid.UUID
    purposes: tuple[Purpose, ...]
    states: dict[str, CurrentConsent]
    link_expires_at: datetime


async def _subject(token: str) -> tuple[links.LinkClaims, bytes]:
    claims = links.verify(token)
    key = (await current_vault().subject_keys([claims.lead_id])).get(claims.lead_id)
    if key is None or not await Lead.filter(id=claims.lead_id).exists():
        raise links.InvalidLink()
    return claims, key


async def subject_view(token: str) -> SubjectConsentView:
    claims, _ = await _subject(token)
    states = (await current_states([claims.lead_id])).get(claims.lead_id, {})
    return SubjectConsentView(claims.lead_id, tuple(purposes()), states, claims.expires_at)


async def subject_sets(
    token: str,
    change: ConsentChange,
    client_address: str | None,
    user_agent: str | None,
) -> SubjectConsentView:
    """The person grants or withdraws a purpose through their link: as easy as giving."""
    claims, key = await _subject(token)
    async with in_transaction("default"):
        await append(
            claims.lead_id,
            [change],
            Evidence(
                source=ConsentSource.SELF_SERVICE,
                client_address=client_address,
                user_agent=user_agent,
            ),
            Actor.anonymous(),
            key=key,
        )
    return await subject_view(token)


async def confirm_double_opt_in(
    token: str, client_address: str | None, user_agent: str | None
) -> ConsentEvent:
    async with in_transaction("default"):
        return await confirmations.confirm(token, client_address, user_agent)
