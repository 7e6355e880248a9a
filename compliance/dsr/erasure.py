"""Erasure requests: submission, approval with step-up MFA, and the executor.

The executor works one subject (lead) at a time, in steps whose completion is committed
with their effect: (1) anonymise every table (see :mod:`compliance.dsr.anonymise`) and
record the counts, (2) shred the subject's data key and record it. A rerun skips what is
recorded, so a crash at any point is finished by the next run without repeating work. A
database lease on the request keeps a second process off it. A subject under a legal hold
(or every subject, while the ``leads`` category is held) is left intact and recorded as
held; a hold on ``activities`` keeps activity metadata. The request then completes (or
completes partly), the requester's own contact details are shredded, and a signed
certificate is stored.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from audit.events import Actor, Event, Outcome, Target, record
from compliance.categories import DataCategory
from compliance.crypto.vault import current_vault
from compliance.dsr import certificate, holds
from compliance.dsr.anonymise import TableCount, anonymise
from compliance.dsr.config import dsr_config
from compliance.dsr.errors import RequestRefused
from compliance.dsr.models import (
    DataSubjectRequest,
    RequestKind,
    RequestStatus,
    RequestSubject,
    SubjectOutcome,
)
from compliance.dsr.officers import Officer, actor_of, require_step_up, user_id_of
from compliance.dsr.requests import WORKING, locked, require_status, save
from compliance.dsr.subjects import link_subjects

LEASE = timedelta(minutes=5)
_APPROVED = frozenset({RequestStatus.IN_PROGRESS, RequestStatus.EXTENDED})


def _require_erasure(request: DataSubjectRequest) -> None:
    if request.kind is not RequestKind.ERASURE:
        raise RequestRefused("not_erasure", "only an erasure request is approved and executed")


async def submit(officer: Officer, request_id: uuid.UUID, now: datetime) -> DataSubjectRequest:
    """Ask for approval: the person's leads are looked up again (a lead captured since
    verification is included) and the request waits for an approver."""
    async with in_transaction("default"):
        request = await locked(officer, request_id)
        _require_erasure(request)
        require_status(request, WORKING - {RequestStatus.AWAITING_APPROVAL})
        if request.approved_at is not None:
            raise RequestRefused("already_approved", "the erasure is already approved")
        subjects = await link_subjects(request)
        request.status = RequestStatus.AWAITING_APPROVAL
        await save(request, now, "status")
        await record(
            Event(
                action="dsr.erasure.submitted",
                outcome=Outcome.SUCCESS,
                actor=actor_of(officer),
                target=Target("data_subject_request", str(request.id)),
                details={"subjects": subjects},
            ),
            now=now,
        )
    return request


async def approve(officer: Officer, request_id: uuid.UUID, now: datetime) -> DataSubjectRequest:
    """Approve the erasure (a compliance officer with a fresh MFA step-up). Execution
    follows: :func:`execute` right away, or the erasure job."""
    require_step_up(officer, dsr_config().step_up_window, now)
    async with in_transaction("default"):
        request = await locked(officer, request_id)
        _require_erasure(request)
        require_status(request, frozenset({RequestStatus.AWAITING_APPROVAL}))
        request.approved_by_id, request.approved_at = user_id_of(officer), now
        request.status = (
            RequestStatus.EXTENDED if request.extended_at is not None else RequestStatus.IN_PROGRESS
        )
        await save(request, now, "approved_by_id", "approved_at", "status")
        await record(
            Event(
                action="dsr.erasure.approved",
                outcome=Outcome.SUCCESS,
                actor=actor_of(officer),
                target=Target("data_subject_request", str(request.id)),
            ),
            now=now,
        )
    return request


class Interrupted(RuntimeError):
    """Raised by a test hook to stop the executor between two steps."""


@dataclass(frozen=True, slots=True)
class Execution:
    request_id: uuid.UUID
    subjects: int
    erased: int
    held: int
    certificate: dict[str, Any] | None


async def _take_lease(request_id: uuid.UUID, now: datetime) -> bool:
    taken = await DataSubjectRequest.filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now), id=request_id
    ).update(lease_until=now + LEASE)
    return taken == 1


BATCH = 100
"""Subjects anonymised per transaction and shredded per key-store statement."""


async def _erase_batch(
    batch: list[RequestSubject],
    request: DataSubjectRequest,
    now: Callable[[], datetime],
    step: Callable[[str], None],
) -> None:
    when = now()
    todo = [s for s in batch if s.anonymised_at is None]
    if todo:
        held_subjects = await holds.subject_holds([s.lead_id for s in todo], when)
        all_held = await holds.category_hold(DataCategory.LEADS, when)
        kept = frozenset(
            {DataCategory.ACTIVITIES}
            if await holds.category_hold(DataCategory.ACTIVITIES, when)
            else set()
        )
        async with in_transaction("default"):
            for subject in todo:
                hold = held_subjects.get(subject.lead_id) or all_held
                if hold is not None:
                    subject.outcome, subject.hold_id = SubjectOutcome.HELD, hold
                    await subject.save(update_fields=["outcome", "hold_id"])
                    continue
                counts = await anonymise(
                    [subject.lead_id], when, f"dsr:{request.id}", held_categories=kept
                )
                subject.counts = {
                    f"{c.table}|{c.action}|{','.join(c.fields)}": c.rows for c in counts
                }
                subject.anonymised_at = when
                await subject.save(update_fields=["counts", "anonymised_at"])
            await DataSubjectRequest.filter(id=request.id).update(lease_until=when + LEASE)
        step("anonymised")
    shred = [
        s
        for s in batch
        if s.outcome is SubjectOutcome.PENDING and s.anonymised_at and not s.key_shredded_at
    ]
    if shred:
        await current_vault().keystore.shred_many(str(s.lead_id) for s in shred)
        step("key_shredded")
        done = now()
        await RequestSubject.filter(id__in=[s.id for s in shred]).update(
            key_shredded_at=done, outcome=SubjectOutcome.ERASED
        )
        for subject in shred:
            subject.key_shredded_at, subject.outcome = done, SubjectOutcome.ERASED


def _tables(subjects: list[RequestSubject]) -> list[dict[str, Any]]:
    totals: dict[tuple[str, str, str], int] = {}
    for subject in subjects:
        for label, rows in subject.counts.items():
            table, action, fields = label.split("|")
            totals[(table, action, fields)] = totals.get((table, action, fields), 0) + int(rows)
    return [
        {"table": t, "action": a, "fields": f.split(",") if f else [], "rows": n}
        for (t, a, f), n in sorted(totals.items())
    ]


def build_certificate(
    request: DataSubjectRequest, subjects: list[RequestSubject], completed_at: datetime
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": certificate.KIND,
        "version": 1,
        "request_id": str(request.id),
        "jurisdiction": request.jurisdiction.value,
        "received_at": request.received_at.isoformat(),
        "approved_by": str(request.approved_by_id) if request.approved_by_id else "operator",
        "approved_at": request.approved_at.isoformat() if request.approved_at else None,
        "completed_at": completed_at.isoformat(),
        "outcome": _outcome(subjects),
        "subjects": [
            {
                "lead_id": str(s.lead_id),
                "outcome": s.outcome.value,
                "anonymised_at": s.anonymised_at.isoformat() if s.anonymised_at else None,
                "shredded_key_id": f"subject_key:{s.lead_id}" if s.key_shredded_at else None,
                "key_shredded_at": s.key_shredded_at.isoformat() if s.key_shredded_at else None,
                "legal_hold_id": str(s.hold_id) if s.hold_id else None,
            }
            for s in subjects
        ],
        "tables": _tables(subjects),
        "key_store": {
            "table": "subject_key",
            "action": "deleted",
            "rows": sum(1 for s in subjects if s.key_shredded_at),
        },
        "requester_contact": "shredded",
    }
    return certificate.sign(body)


def _outcome(subjects: list[RequestSubject]) -> str:
    if any(s.outcome is SubjectOutcome.HELD for s in subjects):
        return "partially_completed_legal_hold"
    if any("held" in label.split("|")[1:2] for s in subjects for label in s.counts):
        return "partially_completed_legal_hold"
    return "completed"


async def execute(
    request_id: uuid.UUID,
    *,
    now: Callable[[], datetime],
    actor: Actor,
    step: Callable[[str], None] = lambda _: None,
) -> Execution | None:
    """Carry out an approved erasure; None when another process holds it. ``step`` is
    called after each committed step (a test hook; raising there simulates a crash)."""
    request = await DataSubjectRequest.get_or_none(id=request_id)
    if request is None:
        raise RequestRefused("not_found", "no such request")
    _require_erasure(request)
    if request.status is RequestStatus.COMPLETED and request.certificate:
        return _execution(request, await _subjects(request.id), json.loads(request.certificate))
    if request.approved_at is None or request.status not in _APPROVED:
        raise RequestRefused("not_approved", "the erasure has not been approved")
    if not await _take_lease(request.id, now()):
        return None
    try:
        subjects = await _subjects(request.id)
        pending = [s for s in subjects if s.outcome is SubjectOutcome.PENDING]
        for first in range(0, len(pending), BATCH):
            await _erase_batch(pending[first : first + BATCH], request, now, step)
        await current_vault().keystore.shred(str(request.id))
        step("requester_shredded")
        completed_at = now()
        document = build_certificate(request, subjects, completed_at)
        async with in_transaction("default"):
            request.status, request.completed_at = RequestStatus.COMPLETED, completed_at
            request.outcome = document["outcome"]
            request.certificate = json.dumps(document, sort_keys=True)
            request.lease_until = None
            await save(
                request,
                completed_at,
                "status",
                "completed_at",
                "outcome",
                "certificate",
                "lease_until",
            )
            await record(
                Event(
                    action="dsr.erasure.executed",
                    outcome=Outcome.SUCCESS,
                    actor=actor,
                    target=Target("data_subject_request", str(request.id)),
                    subject_ids=tuple(str(s.lead_id) for s in subjects),
                    details={
                        "subjects": len(subjects),
                        "erased": sum(s.outcome is SubjectOutcome.ERASED for s in subjects),
                        "held": sum(s.outcome is SubjectOutcome.HELD for s in subjects),
                        "outcome": document["outcome"],
                    },
                ),
                now=completed_at,
            )
    except BaseException:
        await DataSubjectRequest.filter(id=request.id).update(lease_until=None)
        raise
    return _execution(request, subjects, document)


async def _subjects(request_id: uuid.UUID) -> list[RequestSubject]:
    return await RequestSubject.filter(request_id=request_id).order_by("id")


def _execution(
    request: DataSubjectRequest, subjects: list[RequestSubject], document: dict[str, Any]
) -> Execution:
    return Execution(
        request.id,
        len(subjects),
        sum(s.outcome is SubjectOutcome.ERASED for s in subjects),
        sum(s.outcome is SubjectOutcome.HELD for s in subjects),
        document,
    )


async def approved_pending() -> list[uuid.UUID]:
    """Approved erasures not yet completed (what the erasure job works through)."""
    rows = await DataSubjectRequest.filter(
        kind=RequestKind.ERASURE, approved_at__isnull=False, status__in=list(_APPROVED)
    ).values_list("id", flat=True)
    return list(rows)  # type: ignore[arg-type]


__all__ = ["Execution", "Interrupted", "TableCount", "approve", "execute", "run_approved", "submit"]


async def run_approved(actor: Actor, now: Callable[[], datetime]) -> list[Execution]:
    """The erasure job: carry out every approved erasure not yet done (each under its own
    lease, so several processes share the work without doing anything twice)."""
    done = []
    for request_id in await approved_pending():
        result = await execute(request_id, now=now, actor=actor)
        if result is not None:
            done.append(result)
    return done
