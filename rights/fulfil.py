"""Answering the requests that are not erasures.

- access / portability: complete once an export has been generated (see :mod:`export`);
- rectification: the assigned officer corrects the person's contact and identity fields on
  each of their leads (validated like any lead edit, blind indexes kept current, audited
  with the request as purpose), then completes the request;
- objection: every processing purpose the person objects to (by default all of them,
  profiling and marketing included) is withdrawn in the consent ledger for each of their
  leads, with the request as evidence, and the request completes.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from audit.events import Event, Outcome, Target, record
from compliance.consent.evidence import ConsentSource, Evidence
from compliance.consent.ledger import ConsentChange, append
from compliance.consent.purposes import purposes
from compliance.dsr.models import DataSubjectRequest, RequestKind, RequestStatus, SubjectExport
from compliance.events.emit import emit
from core.errors import FieldError, NotFound, ValidationFailed
from crypto.vault import current_vault
from leads.contacts import replace_indexes, seal_lead
from leads.models import Lead
from leads.service import changed_values
from leads.validation import clean_lead_fields
from rights.errors import RequestRefused
from rights.events import completed_event
from rights.officers import Officer, actor_of
from rights.requests import WORKING, locked, request_event, require_status, save
from rights.subjects import PURPOSE_KIND, link_subjects, subject_ids

RECTIFIABLE = frozenset({"first_name", "last_name", "email", "phone", "job_title"})


def _purpose(request: DataSubjectRequest) -> str:
    return f"{PURPOSE_KIND}:{request.id}"


async def rectify(
    officer: Officer,
    request_id: uuid.UUID,
    lead_id: uuid.UUID,
    values: Mapping[str, Any],
    now: datetime,
) -> list[str]:
    """Correct fields of one of the requester's leads; returns the fields that changed."""
    unknown = sorted(set(values) - RECTIFIABLE)
    if unknown:
        raise ValidationFailed(
            [
                FieldError(name, "not_rectifiable", "only contact and identity fields")
                for name in unknown
            ]
        )
    cleaned = clean_lead_fields(values, creating=False)
    async with in_transaction("default"):
        request = await locked(officer, request_id)
        if request.kind is not RequestKind.RECTIFICATION:
            raise RequestRefused("not_rectification", "only a rectification request corrects data")
        require_status(request, WORKING)
        if lead_id not in await subject_ids(request.id):
            raise NotFound("lead")
        lead = await Lead.filter(id=lead_id).select_for_update().first()
        key = (await current_vault().subject_keys([lead_id])).get(lead_id)
        if lead is None or key is None:
            raise NotFound("lead")
        changed = changed_values(lead, key, cleaned)
        if changed:
            lead.update_from_dict({**seal_lead(lead.id, key, changed), "updated_at": now})
            await lead.save(update_fields=[*changed, "updated_at"])
            await replace_indexes(lead.id, changed)
            await record(
                Event(
                    action="lead.rectified",
                    outcome=Outcome.SUCCESS,
                    actor=actor_of(officer),
                    target=Target("lead", str(lead.id)),
                    fields=tuple(sorted(changed)),
                    purpose=_purpose(request),
                ),
                now=now,
            )
    return sorted(changed)


async def _withdraw(
    officer: Officer, request: DataSubjectRequest, chosen: Sequence[str], now: datetime
) -> int:
    leads = await subject_ids(request.id)
    keys = await current_vault().subject_keys(leads)
    written = 0
    for lead_id in leads:
        events = await append(
            lead_id,
            [ConsentChange(name, granted=False) for name in chosen],
            Evidence(source=ConsentSource.DATA_SUBJECT_REQUEST, source_ref=str(request.id)),
            actor_of(officer),
            key=keys.get(lead_id),
            now=now,
            purpose_of_request=_purpose(request),
        )
        written += len(events)
    return written


async def complete(
    officer: Officer,
    request_id: uuid.UUID,
    now: datetime,
    *,
    objected_purposes: Sequence[str] | None = None,
) -> DataSubjectRequest:
    """Close an access, portability, rectification or objection request as answered."""
    configured = purposes().names
    chosen = list(objected_purposes) if objected_purposes else list(configured)
    unknown = [p for p in chosen if p not in configured]
    if unknown:
        raise ValidationFailed([FieldError("purposes", "unknown", "not a configured purpose")])
    async with in_transaction("default"):
        request = await locked(officer, request_id)
        require_status(request, WORKING)
        details: dict[str, str | int | None] = {"kind": request.kind.value}
        if request.kind is RequestKind.ERASURE:
            raise RequestRefused("erasure", "an erasure completes when its executor has run")
        needs_export = request.kind in (RequestKind.ACCESS, RequestKind.PORTABILITY)
        if needs_export and not await SubjectExport.exists(request_id=request.id):
            raise RequestRefused("no_export", "generate the export before completing")
        if request.kind is RequestKind.OBJECTION:
            await link_subjects(request)
            details["withdrawals"] = await _withdraw(officer, request, chosen, now)
        request.status, request.completed_at, request.outcome = (
            RequestStatus.COMPLETED,
            now,
            "completed",
        )
        await save(request, now, "status", "completed_at", "outcome")
        await record(
            request_event(
                "dsr.completed",
                actor_of(officer),
                request,
                subject_ids=tuple(str(s) for s in await subject_ids(request.id)),
                details=details,
            ),
            now=now,
        )
        await emit([completed_event(request)], now)
    return request
