"""Erasure requests: submission, approval with step-up MFA, and the executor.

The executor works in steps whose completion is committed with their effect: (1) anonymise
every table for a batch of subjects (see :mod:`rights.anonymise`) and record what
each subject had, (2) shred the subjects' data keys, (3) complete the request with its
certificate. A rerun skips what is recorded, so a crash at any point is finished by the
next run without repeating work. A database lease on the request keeps a second process
off it; the erasure job takes up to a hundred approved requests together. A subject under
a legal hold (or every subject, while the ``leads`` category is held) is left intact and
recorded as held; a hold on ``activities`` keeps activity metadata. The request then
completes (or completes partly), the requester's own contact details are shredded, and a
signed certificate is stored.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from audit.events import Actor, Event, record, record_many
from audit.jobs import announce, batch_event, new_run
from compliance import lease
from compliance.categories import DataCategory
from compliance.dsr.models import (
    DataSubjectRequest,
    RequestKind,
    RequestStatus,
    RequestSubject,
    SubjectOutcome,
)
from compliance.events.emit import emit
from core import stopping
from crypto.vault import current_vault
from identity.admin import require_recent_mfa
from rights import certificate, holds
from rights.anonymise import anonymise
from rights.config import dsr_config
from rights.errors import RequestRefused
from rights.events import completed_event
from rights.officers import Officer, actor_of, user_id_of
from rights.requests import WORKING, locked, request_event, require_status, save
from rights.subjects import link_subjects

LEASE = lease.SHORT_LEASE
"""A request's lease while an erasure works on it, renewed by the heartbeat: a process that
dies mid-erasure leaves its requests to the next run within a minute."""
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
            request_event(
                "dsr.erasure.submitted",
                actor_of(officer),
                request,
                details={"subjects": subjects},
            ),
            now=now,
        )
    return request


async def approve(officer: Officer, request_id: uuid.UUID, now: datetime) -> DataSubjectRequest:
    """Approve the erasure (a compliance officer with a fresh MFA step-up). Execution
    follows: :func:`execute` right away, or the erasure job."""
    require_recent_mfa(officer, dsr_config().step_up_window, now)
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
            request_event("dsr.erasure.approved", actor_of(officer), request),
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


BATCH = 100
"""Subjects anonymised per transaction."""


async def _take_leases(
    request_ids: list[uuid.UUID], now: datetime
) -> tuple[list[uuid.UUID], datetime]:
    """Lease the requests no other process holds (one statement); returns those taken and
    the lease's end."""
    mine = now + LEASE + timedelta(microseconds=secrets.randbelow(10**6))
    await DataSubjectRequest.filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now), id__in=request_ids
    ).update(lease_until=mine)
    taken = await DataSubjectRequest.filter(id__in=request_ids, lease_until=mine).values_list(
        "id", flat=True
    )
    return list(taken), mine  # type: ignore[arg-type]


async def _anonymise(
    subjects: list[RequestSubject],
    now: Callable[[], datetime],
    step: Callable[[str], None],
    actor: Actor,
    run: str,
) -> None:
    """Step 1: anonymise pending subjects, BATCH per transaction, recording per subject
    what was done (or the hold that kept it), with the batch's audit event."""
    todo = [s for s in subjects if s.outcome is SubjectOutcome.PENDING and not s.anonymised_at]
    for first in range(0, len(todo), BATCH):
        stopping.check()
        batch, when = todo[first : first + BATCH], now()
        held_subjects = await holds.subject_holds([s.lead_id for s in batch], when)
        all_held = await holds.category_hold(DataCategory.LEADS, when)
        kept = frozenset(
            {DataCategory.ACTIVITIES}
            if await holds.category_hold(DataCategory.ACTIVITIES, when)
            else set()
        )
        async with in_transaction("default"):
            erasing = []
            for subject in batch:
                hold = held_subjects.get(subject.lead_id) or all_held
                if hold is not None:
                    subject.outcome, subject.hold_id = SubjectOutcome.HELD, hold
                    await subject.save(update_fields=["outcome", "hold_id"])
                else:
                    erasing.append(subject)
            references = {s.lead_id: f"dsr:{s.request_id}" for s in erasing}
            done = await anonymise(list(references), when, references, held_categories=kept)
            for subject in erasing:
                subject.counts = {
                    f"{c.table}|{c.action}|{','.join(c.fields)}": c.rows
                    for c in done[subject.lead_id]
                }
                subject.anonymised_at = when
                await subject.save(update_fields=["counts", "anonymised_at"])
            await record(
                batch_event(
                    "dsr.erasure.anonymised",
                    actor,
                    run,
                    len(erasing),
                    subjects=[s.lead_id for s in erasing],
                    held=len(batch) - len(erasing),
                ),
                now=when,
            )
        step("anonymised")


async def execute_many(
    request_ids: list[uuid.UUID],
    *,
    now: Callable[[], datetime],
    actor: Actor,
    step: Callable[[str], None] = lambda _: None,
) -> list[Execution]:
    """Carry out approved erasures together: (1) anonymise their subjects in batches,
    (2) shred every subject key and the requests' own keys in one key-store statement,
    (3) complete the requests with their certificates and audit events in one transaction.
    Each step is recorded as it commits, so a rerun after a crash finishes without
    repeating work. Requests another process holds are skipped. ``step`` is called after
    each committed step (a test hook; raising there simulates a crash)."""
    taken, held_until = await _take_leases(request_ids, now())
    if not taken:
        return []

    async def renew() -> None:  # the heartbeat: keep what this process still works on
        nonlocal held_until
        fresh = now() + LEASE
        await DataSubjectRequest.filter(id__in=taken, lease_until=held_until).update(
            lease_until=fresh
        )
        held_until = fresh

    async with lease.heartbeat(renew):
        return await _execute_taken(taken, now, actor, step)


async def _execute_taken(
    taken: list[uuid.UUID],
    now: Callable[[], datetime],
    actor: Actor,
    step: Callable[[str], None],
) -> list[Execution]:
    try:
        requests = await DataSubjectRequest.filter(id__in=taken).order_by("received_at", "id")
        rows = await RequestSubject.filter(request_id__in=taken).order_by("id")
        by_request: dict[uuid.UUID, list[RequestSubject]] = {r.id: [] for r in requests}
        for row in rows:
            by_request[row.request_id].append(row)
        run = new_run()
        await _anonymise(rows, now, step, actor, run)
        shred = [s for s in rows if s.anonymised_at and not s.key_shredded_at]
        await announce(
            batch_event(
                "dsr.erasure.shredding",
                actor,
                run,
                len(shred) + len(requests),
                subjects=[s.lead_id for s in shred],
                requests=len(requests),
            ),
            now(),
        )
        await current_vault().keystore.shred_many(
            [str(s.lead_id) for s in shred] + [str(r.id) for r in requests]
        )
        step("key_shredded")
        completed_at = now()
        for subject in shred:
            subject.key_shredded_at, subject.outcome = completed_at, SubjectOutcome.ERASED
        results, events = [], []
        async with in_transaction("default"):
            if shred:
                await RequestSubject.filter(id__in=[s.id for s in shred]).update(
                    key_shredded_at=completed_at, outcome=SubjectOutcome.ERASED
                )
            for request in requests:
                subjects = by_request[request.id]
                document = await build_certificate(request, subjects, completed_at)
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
                results.append(_execution(request, subjects, document))
                events.append(_executed_event(request, subjects, document, actor))
            await record_many(events, now=completed_at)
            await emit([completed_event(r) for r in requests], completed_at)
    except BaseException:
        await DataSubjectRequest.filter(id__in=taken, status__not=RequestStatus.COMPLETED).update(
            lease_until=None
        )
        raise
    return results


def _executed_event(
    request: DataSubjectRequest,
    subjects: list[RequestSubject],
    document: dict[str, Any],
    actor: Actor,
) -> Event:
    return request_event(
        "dsr.erasure.executed",
        actor,
        request,
        subject_ids=tuple(str(s.lead_id) for s in subjects),
        details={
            "subjects": len(subjects),
            "erased": sum(s.outcome is SubjectOutcome.ERASED for s in subjects),
            "held": sum(s.outcome is SubjectOutcome.HELD for s in subjects),
            "outcome": document["outcome"],
        },
    )


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


async def build_certificate(
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
    return await certificate.sign(body)


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
    """Carry out one approved erasure (see :func:`execute_many`); None when another
    process holds it. A completed erasure returns its stored certificate."""
    request = await DataSubjectRequest.get_or_none(id=request_id)
    if request is None:
        raise RequestRefused("not_found", "no such request")
    _require_erasure(request)
    if request.status is RequestStatus.COMPLETED and request.certificate:
        return _execution(request, await _subjects(request.id), json.loads(request.certificate))
    if request.approved_at is None or request.status not in _APPROVED:
        raise RequestRefused("not_approved", "the erasure has not been approved")
    done = await execute_many([request.id], now=now, actor=actor, step=step)
    return done[0] if done else None


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


async def run_approved(actor: Actor, now: Callable[[], datetime]) -> list[Execution]:
    """The erasure job: carry out every approved erasure not yet done, up to a hundred
    requests at a time (each leased, so several processes share the work without doing
    anything twice)."""
    pending = await approved_pending()
    done: list[Execution] = []
    for first in range(0, len(pending), BATCH):
        done.extend(await execute_many(pending[first : first + BATCH], now=now, actor=actor))
    return done


__all__ = [
    "Execution",
    "Interrupted",
    "approve",
    "execute",
    "execute_many",
    "run_approved",
    "submit",
]
