"""Lead operations. Each runs in one transaction and leaves nothing half-written."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tortoise.transactions import in_transaction

from audit.events import Event, Outcome, Target, record
from compliance.consent import ledger, suppression
from compliance.consent.evidence import ConsentSource, Evidence
from compliance.events.emit import emit
from compliance.scopes import RowScope, lead_scope
from core.errors import FieldError, NotFound, ValidationFailed
from core.ids import new_id
from core.validation import text
from crypto.blind_index import IndexKind
from crypto.fields import personal_fields_of
from crypto.vault import current_vault
from identity.events import actor_of
from identity.principal import Principal
from identity.scopes import ApiScope
from leads import duplicates
from leads.assignment import assign_round_robin, team_named
from leads.contacts import lead_ids_with, replace_indexes, seal_lead, subject_key
from leads.details import clean_details
from leads.enums import HUMAN_TOUCH_ACTIVITIES, ActivityType, Stage, Status
from leads.errors import DuplicateLead, Suppressed
from leads.events import assigned, created, stage_changed
from leads.followup import (
    BecameSql,
    became_sql,
    followup_config,
    reassign_open_tasks,
    send_welcome,
    touched,
)
from leads.lifecycle import check_transition, status_after
from leads.models import Activity, Lead, StageChange
from leads.repository import LeadRepository, active_staff, campaign_exists
from leads.scoring.rescoring import FACT_COLUMNS
from leads.scoring.service import Trigger, rescore_lead
from leads.validation import clean_lead_fields

EARLIEST_ACTIVITY = datetime(2000, 1, 1, tzinfo=UTC)
"""No engagement the product records happened before this."""


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ActivityInput:
    lead_id: uuid.UUID
    type: ActivityType
    occurred_at: datetime | None = None
    campaign_id: int | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


def _ensure_writable(principal: Principal, under: ApiScope | None = None) -> None:
    """Roles without a row scope write nothing; an API key writes only under its scopes."""
    if lead_scope(principal, writing_under=under, writing=True).kind is RowScope.NONE:
        raise NotFound("lead")


async def _check_references(principal: Principal, values: Mapping[str, Any]) -> None:
    """Referenced rows exist, and a new owner is someone whose leads the principal may
    write: a rep assigns only to themselves, a manager only within their team (so an
    assignment never moves a lead out of the assigner's reach by mistake)."""
    errors: list[FieldError] = []
    campaign_id = values.get("campaign_id")
    if campaign_id is not None and not await campaign_exists(campaign_id):
        errors.append(FieldError("campaign_id", "not_found", "campaign_id does not exist"))
    owner_id = values.get("owner_id")
    if owner_id is not None:
        owner = await active_staff(owner_id)
        scope = lead_scope(principal, writing=True)
        if owner is None:
            errors.append(FieldError("owner_id", "not_found", "owner_id is not an active user"))
        elif (scope.kind is RowScope.OWN and owner.id != principal.user_id) or (
            scope.kind is RowScope.TEAM and owner.team_id != principal.team_id
        ):
            errors.append(
                FieldError("owner_id", "out_of_scope", "owner_id must be in your own team")
            )
    if errors:
        raise ValidationFailed(errors)


async def _hidden_duplicates(
    repository: LeadRepository, email: str | None, exclude: uuid.UUID | None
) -> list[uuid.UUID]:
    """Other leads with ``email``: raises :class:`DuplicateLead` naming one whose email the
    author may read in clear; otherwise returns them, to be flagged for review without
    telling the author (see :mod:`leads.duplicates`)."""
    if not email:
        return []
    others = [i for i in await lead_ids_with(IndexKind.EMAIL, email) if i != exclude]
    if not others:
        return []
    shown = await duplicates.shown_duplicate(repository, others)
    if shown is not None:
        raise DuplicateLead("email", shown)
    return others


def _sealed_change(
    lead_id: uuid.UUID, key: bytes, reason: str | None, **values: Any
) -> StageChange:
    change_id = new_id()
    sealed = current_vault().seal_values(StageChange, change_id, key, {"reason": reason})
    return StageChange(id=change_id, lead_id=lead_id, reason=sealed["reason"], **values)


async def create_lead(principal: Principal, values: Mapping[str, Any]) -> Lead:
    """Create a lead in stage ``lead`` (or the given stage's entry point) with its first
    stage-history row. A duplicate email is reported, never merged silently."""
    _ensure_writable(principal, ApiScope.LEADS_CAPTURE)
    cleaned = clean_lead_fields(values, creating=True)
    await _check_references(principal, cleaned)
    repository = LeadRepository(principal)
    scope = lead_scope(principal, writing=True)
    if scope.kind is RowScope.OWN:
        cleaned["owner_id"] = principal.user_id
    now = utcnow()
    lead_id = new_id()
    # Checked before a data key is created (a refused duplicate leaves no orphan key) and
    # again inside the transaction (a concurrent create of the same email).
    await _hidden_duplicates(repository, cleaned.get("email"), None)
    if await suppression.is_suppressed(suppression.contacts_of(cleaned)):
        raise Suppressed()
    key = await subject_key(lead_id, create=True)
    async with in_transaction("default"):
        hidden = await _hidden_duplicates(repository, cleaned.get("email"), None)
        team_id = scope.team_id if scope.kind is RowScope.TEAM else None
        if team_id is None and cleaned.get("owner_id") is not None:
            owner = await active_staff(cleaned["owner_id"])
            team_id = owner.team_id if owner else None
        lead = await Lead.create(
            id=lead_id,
            **seal_lead(lead_id, key, cleaned),
            team_id=team_id,
            stage=Stage.LEAD,
            stage_entered_at=now,
            created_at=now,
            updated_at=now,
            **_given_owner(cleaned, now),
        )
        await replace_indexes(lead_id, cleaned)
        change = _sealed_change(
            lead_id,
            key,
            None,
            from_stage=None,
            to_stage=Stage.LEAD,
            changed_at=now,
            changed_by_id=principal.user_id,
        )
        await change.save()
        await _recorded(principal, "lead.created", lead.id, tuple(sorted(cleaned)))
        await emit([created(lead)], now)
        await duplicates.flag(principal, lead_id, hidden, now)
        await record_bases(principal, lead_id, key, now)
        await auto_assign(principal, lead, now)
        await send_welcome(lead_id, key, cleaned.get("email"), now)
        await rescore_lead(lead_id, Trigger.LEAD_CHANGED, now)
        await lead.refresh_from_db()
    return lead


def _given_owner(cleaned: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """A lead created with an owner says so (stored with the lead)."""
    if cleaned.get("owner_id") is None:
        return {}
    return {"assigned_at": now, "assignment_reason": "set when created"}


async def auto_assign(principal: Principal, lead: Lead, now: datetime) -> None:
    """A new lead without an owner goes round-robin to its team (the creator's team, or the
    intake team for captures and marketers)."""
    if lead.owner_id is not None:
        return
    team_id = lead.team_id or await team_named(followup_config().intake_team)
    if team_id is not None:
        await assign_round_robin([lead.id], team_id, actor_of(principal), now)


async def record_bases(principal: Principal, lead_id: uuid.UUID, key: bytes, now: datetime) -> None:
    """A new lead's legitimate-interest and contract bases, in the ledger with the lead
    (consent purposes need the person's own grant)."""
    await ledger.append(
        lead_id,
        ledger.basis_changes(),
        Evidence(source=ConsentSource.API if principal.is_service else ConsentSource.STAFF),
        actor_of(principal),
        key=key,
        now=now,
    )


async def _recorded(
    principal: Principal,
    action: str,
    lead_id: uuid.UUID,
    fields: tuple[str, ...] = (),
    **details: str | int | bool | None,
) -> None:
    """The audit event of a change, written in the change's transaction: field names only."""
    await record(
        Event(
            action=action,
            outcome=Outcome.SUCCESS,
            actor=actor_of(principal),
            target=Target("lead", str(lead_id)),
            fields=fields,
            purpose=principal.purpose,
            details=details,
        )
    )


async def update_lead(principal: Principal, lead_id: uuid.UUID, values: Mapping[str, Any]) -> Lead:
    """Change the given fields of a lead the principal may see."""
    _ensure_writable(principal)
    cleaned = clean_lead_fields(values, creating=False)
    if "source" in cleaned and cleaned["source"] is None:
        raise ValidationFailed([FieldError("source", "required", "source is required")])
    await _check_references(principal, cleaned)
    repository = LeadRepository(principal, writing=True)
    async with in_transaction("default"):
        lead = await repository.get_for_update(lead_id)
        if lead is None:
            raise NotFound("lead")
        hidden = (
            await _hidden_duplicates(repository, cleaned["email"], lead.id)
            if "email" in cleaned
            else []
        )
        if "owner_id" in cleaned and cleaned["owner_id"] is not None:
            owner = await active_staff(cleaned["owner_id"])
            if owner is not None and owner.team_id is not None:
                cleaned["team_id"] = owner.team_id
        reassigned = "owner_id" in cleaned and cleaned["owner_id"] != lead.owner_id
        previous = lead.owner_id
        personal = personal_fields_of(Lead)
        key = await subject_key(lead.id, create=False) if personal.keys() & cleaned else None
        changed = changed_values(lead, key, cleaned)
        if changed:
            if key is not None and personal.keys() & changed:
                changed = seal_lead(lead.id, key, changed)
            lead.update_from_dict({**changed, "updated_at": utcnow()})
            await lead.save(update_fields=[*changed, "updated_at"])
            await replace_indexes(lead.id, cleaned)
            await _recorded(principal, "lead.updated", lead.id, tuple(sorted(changed)))
            if "email" in changed:
                await duplicates.flag(principal, lead.id, hidden, utcnow())
            if reassigned:
                lead.assigned_at, lead.assignment_reason = utcnow(), "reassigned by staff"
                await lead.save(update_fields=["assigned_at", "assignment_reason"])
                await reassign_open_tasks(lead.id, lead.owner_id)
                await emit([assigned(lead.id, lead.owner_id, lead.team_id, previous)], utcnow())
            if changed.keys() & set(FACT_COLUMNS):
                await rescore_lead(lead.id, Trigger.LEAD_CHANGED, utcnow())
                await lead.refresh_from_db()
    return lead


def changed_values(lead: Lead, key: bytes | None, values: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of ``values`` that differ from the lead's (personal fields compared in
    clear, opened with the lead's ``key``)."""
    personal = personal_fields_of(Lead)
    vault = current_vault()
    return {
        k: v
        for k, v in values.items()
        if (
            vault.open_value(Lead, k, lead.id, getattr(lead, k), key)
            if k in personal
            else getattr(lead, k)
        )
        != v
    }


async def record_activity(principal: Principal, data: ActivityInput) -> tuple[Activity, Lead]:
    """Record an engagement event and move the lead's last-engaged time forward."""
    _ensure_writable(principal, ApiScope.ACTIVITIES_RECORD)
    now = utcnow()
    occurred_at = data.occurred_at or now
    errors: list[FieldError] = []
    if occurred_at.tzinfo is None:
        errors.append(FieldError("occurred_at", "timezone_required", "occurred_at needs a zone"))
    elif occurred_at > now:
        errors.append(FieldError("occurred_at", "in_future", "occurred_at is in the future"))
    elif occurred_at < EARLIEST_ACTIVITY:
        errors.append(
            FieldError(
                "occurred_at", "too_early", f"occurred_at is before {EARLIEST_ACTIVITY.year}"
            )
        )
    details = clean_details(data.details)
    if data.campaign_id is not None and not await campaign_exists(data.campaign_id):
        errors.append(FieldError("campaign_id", "not_found", "campaign_id does not exist"))
    if errors:
        raise ValidationFailed(errors)
    repository = LeadRepository(principal, writing_under=ApiScope.ACTIVITIES_RECORD)
    async with in_transaction("default"):
        lead = await repository.get_for_update(data.lead_id)
        if lead is None:
            raise NotFound("lead")
        activity = await Activity.create(
            lead_id=lead.id,
            type=data.type,
            occurred_at=occurred_at,
            campaign_id=data.campaign_id,
            recorded_by_id=principal.user_id if data.type in HUMAN_TOUCH_ACTIVITIES else None,
            details=details,
        )
        update_fields = ["updated_at"]
        lead.updated_at = now
        if data.type not in HUMAN_TOUCH_ACTIVITIES and (
            lead.last_engaged_at is None or occurred_at > lead.last_engaged_at
        ):
            lead.last_engaged_at = occurred_at
            update_fields.append("last_engaged_at")
        if lead.status is Status.COLD and data.type not in HUMAN_TOUCH_ACTIVITIES:
            lead.status = Status.NURTURING
            update_fields.append("status")
        await lead.save(update_fields=update_fields)
        await _recorded(principal, "lead.activity.recorded", lead.id, activity_type=data.type.value)
        if data.type in HUMAN_TOUCH_ACTIVITIES:
            await touched(lead, occurred_at, principal.user_id)
        await rescore_lead(lead.id, Trigger.ACTIVITY, now)
        await lead.refresh_from_db()
    return activity, lead


async def change_stage(
    principal: Principal, lead_id: uuid.UUID, to_stage: Stage, reason: str | None
) -> tuple[StageChange, Lead]:
    """Move a lead through the lifecycle, recording who, when and why."""
    _ensure_writable(principal)
    clean_reason, error = text(1000, multiline=True)("reason", reason)
    if error:
        raise ValidationFailed([error])
    repository = LeadRepository(principal, writing=True)
    async with in_transaction("default"):
        lead = await repository.get_for_update(lead_id)
        if lead is None:
            raise NotFound("lead")
        check_transition(lead.stage, to_stage, clean_reason)
        now = utcnow()
        key = await subject_key(lead.id, create=False)
        change = _sealed_change(
            lead.id,
            key,
            clean_reason,
            from_stage=lead.stage,
            to_stage=to_stage,
            changed_at=now,
            changed_by_id=principal.user_id,
        )
        await change.save()
        lead.status = status_after(to_stage, lead.status)
        lead.stage = to_stage
        lead.stage_entered_at = now
        lead.updated_at = now
        await lead.save(update_fields=["stage", "status", "stage_entered_at", "updated_at"])
        if to_stage is Stage.SQL:
            await became_sql([BecameSql(lead.id, lead.source.value, lead.owner_id)], now)
        await emit([stage_changed(lead.id, change.from_stage, to_stage, "staff")], now)
        await _recorded(
            principal,
            "lead.stage.changed",
            lead.id,
            ("stage", *(("reason",) if clean_reason else ())),
            from_stage=change.from_stage.value if change.from_stage else None,
            to_stage=to_stage.value,
        )
    return change, lead
