"""Erasure end to end: approval, the executor, crash recovery, holds and the certificate."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tortoise import Tortoise, connections

from audit.events import Actor
from audit.models import AuditEvent
from compliance.consent import suppression
from compliance.consent.models import ConsentEvent, SuppressedContact
from compliance.dsr.models import DataSubjectRequest, RequestStatus, RequestSubject
from crypto.blind_index import IndexKind
from crypto.fields import personal_fields_of
from crypto.vault import ERASED, current_vault
from identity.errors import StepUpRequired
from identity.principal import Principal
from identity.roles import Role
from leads.enums import Stage
from leads.funnel import FunnelFilter, funnel_report
from leads.models import Activity, ContactIndex, Lead, StageChange
from rights import certificate, erasure, holds, requests
from rights.anonymise import STRATEGIES
from rights.errors import RequestRefused
from server.settings import Settings
from tests.builders import FULL_LEAD_VALUES, a_full_lead, a_lead, clear_value, principal_for
from tests.rights.helpers import (
    NOW,
    a_verified_request,
    an_approved_erasure,
    an_officer,
)

OPERATOR = Actor.operator()
EMAIL = "ada@example.com"


def clock() -> Callable[[], datetime]:
    moments = iter(NOW + timedelta(minutes=5, seconds=i) for i in range(10_000))
    return lambda: next(moments)


async def run(request_id: uuid.UUID, **kwargs: Any) -> erasure.Execution | None:
    return await erasure.execute(request_id, now=clock(), actor=OPERATOR, **kwargs)


def sqlite_files(settings: Settings) -> list[Path]:
    main = Path(settings.database_url.reveal().removeprefix("sqlite://"))
    keys = Path(settings.keystore_url.reveal().removeprefix("sqlite://"))
    return [p for base in (main, keys) for p in (base, Path(f"{base}-wal")) if p.exists()]


async def wrapped_key(lead_id: uuid.UUID) -> bytes:
    keystore = connections.get("keystore")
    mark = "$1" if keystore.capabilities.dialect == "postgres" else "?"
    rows = await keystore.execute_query_dict(
        f"SELECT wrapped_key FROM subject_key WHERE subject_id = {mark}",
        [str(lead_id)],
    )
    return bytes(rows[0]["wrapped_key"])


async def test_erasure_leaves_no_trace_of_the_person_and_keeps_the_funnel(
    database: str, settings: Settings
) -> None:
    user, officer = await an_officer()
    lead = await a_full_lead(None, None, EMAIL)
    duplicate = await a_lead(email="ADA@example.com", stage=Stage.MQL)
    other = await a_full_lead(None, None, "grace@example.com")
    marketer = Principal(role=Role.MARKETER)
    funnel_before = await funnel_report(marketer, FunnelFilter(), NOW)
    key_before = await wrapped_key(lead.id)
    request = await an_approved_erasure(officer, user)

    result = await run(request.id)

    assert result is not None
    assert (result.subjects, result.erased, result.held) == (2, 2, 0)
    assert await current_vault().subject_keys([lead.id, duplicate.id]) == {}
    erased = await Lead.get(id=lead.id)
    assert erased.erased_at is not None
    assert await clear_value(erased, "email") is None
    assert erased.company_name is None
    assert not await ContactIndex.filter(lead_id__in=[lead.id, duplicate.id]).exists()
    assert await Activity.filter(lead_id=lead.id, details={}).count() == 1
    assert await StageChange.filter(lead_id=lead.id, reason__isnull=False).count() == 0
    change = await StageChange.filter(lead_id=lead.id).first()
    assert change is not None
    assert await ConsentEvent.filter(lead_id=lead.id).count() > 0
    assert await suppression.is_suppressed({IndexKind.EMAIL: "Ada@Example.com"})
    assert await clear_value(await Lead.get(id=other.id), "email") == "grace@example.com"
    assert await funnel_report(marketer, FunnelFilter(), NOW) == funnel_before
    stored = await DataSubjectRequest.get(id=request.id)
    assert stored.status is RequestStatus.COMPLETED
    assert stored.outcome == "completed"
    assert requests.requester_contacts(stored, None)[IndexKind.EMAIL] == ERASED
    assert (await requests.requester_of(officer, request.id, NOW)).email == ERASED
    if database == "sqlite":
        for path in sqlite_files(settings):
            content = path.read_bytes()
            for value in (EMAIL, FULL_LEAD_VALUES["last_name"], FULL_LEAD_VALUES["phone"]):
                assert value.encode() not in content, path.name
            assert key_before not in content, path.name


async def test_the_certificate_lists_what_was_done_and_verifies_offline() -> None:
    user, officer = await an_officer()
    lead = await a_full_lead(None, None, EMAIL)
    request = await an_approved_erasure(officer, user)

    result = await run(request.id)

    assert result is not None
    assert result.certificate is not None
    document = json.loads((await DataSubjectRequest.get(id=request.id)).certificate or "")
    assert document == result.certificate
    assert certificate.verify(document).valid
    assert certificate.verify(document, await certificate.public_key_hex()).valid
    tables = {(t["table"], t["action"]): t for t in document["tables"]}
    assert tables[("lead", "anonymised")]["rows"] == 1
    assert "email" in tables[("lead", "anonymised")]["fields"]
    assert tables[("contact_index", "deleted")]["rows"] == 2  # email and phone
    assert tables[("suppressed_contact", "added")]["rows"] == 2
    assert tables[("stage_change", "anonymised")]["rows"] == 1
    assert document["subjects"] == [
        {
            "lead_id": str(lead.id),
            "outcome": "erased",
            "anonymised_at": document["subjects"][0]["anonymised_at"],
            "shredded_key_id": f"subject_key:{lead.id}",
            "key_shredded_at": document["subjects"][0]["key_shredded_at"],
            "legal_hold_id": None,
        }
    ]
    assert document["approved_by"] == str(user.id)
    assert await SuppressedContact.filter(reference=f"dsr:{request.id}").count() == 2
    assert EMAIL not in json.dumps(document)


async def test_a_tampered_certificate_does_not_verify() -> None:
    user, officer = await an_officer()
    await a_full_lead(None, None, EMAIL)
    request = await an_approved_erasure(officer, user)
    result = await run(request.id)
    assert result is not None
    assert result.certificate is not None
    document = result.certificate

    edited = json.loads(json.dumps(document))
    edited["tables"][0]["rows"] += 1
    resigned_elsewhere = json.loads(json.dumps(document))
    resigned_elsewhere["signature"]["public_key"] = "00" * 32

    assert not certificate.verify(edited).valid
    assert not certificate.verify(resigned_elsewhere).valid
    assert not certificate.verify(document, "11" * 32).valid
    assert not certificate.verify({"kind": "something else"}).valid


@pytest.mark.parametrize("crash_after", ["anonymised", "key_shredded"])
async def test_an_interrupted_erasure_finishes_on_the_next_run_without_repeating_work(
    crash_after: str,
) -> None:
    user, officer = await an_officer()
    lead = await a_full_lead(None, None, EMAIL)
    request = await an_approved_erasure(officer, user)

    def crash(step: str) -> None:
        if step == crash_after:
            raise erasure.Interrupted(step)

    with pytest.raises(erasure.Interrupted):
        await run(request.id, step=crash)
    assert (await DataSubjectRequest.get(id=request.id)).status is not RequestStatus.COMPLETED
    # what the killed run committed is on record: the anonymised batch, and the keys it
    # was about to shred (announced before they went)
    anonymised = await AuditEvent.filter(action="dsr.erasure.anonymised")
    assert [(e.subject_ids, e.details["count"]) for e in anonymised] == [([str(lead.id)], 1)]
    shredding = await AuditEvent.filter(action="dsr.erasure.shredding")
    assert [e.subject_ids for e in shredding] == (
        [[str(lead.id)]] if crash_after == "key_shredded" else []
    )
    result = await run(request.id)

    assert result is not None
    assert result.certificate is not None
    assert result.erased == 1
    assert await SuppressedContact.all().count() == 2  # email and phone
    assert await current_vault().subject_keys([lead.id]) == {}
    tables = {(t["table"], t["action"]): t["rows"] for t in result.certificate["tables"]}
    assert tables[("lead", "anonymised")] == 1
    assert tables[("suppressed_contact", "added")] == 2
    assert await AuditEvent.filter(action="dsr.erasure.executed").count() == 1
    again = await run(request.id)
    assert again is not None
    assert again.certificate == result.certificate


async def test_a_second_process_leaves_a_leased_erasure_alone() -> None:
    user, officer = await an_officer()
    lead = await a_full_lead(None, None, EMAIL)
    request = await an_approved_erasure(officer, user)
    await DataSubjectRequest.filter(id=request.id).update(lease_until=NOW + timedelta(hours=1))

    assert await run(request.id) is None

    assert await clear_value(await Lead.get(id=lead.id), "email") == EMAIL


async def test_a_legal_hold_on_the_subject_keeps_that_lead_and_completes_partly() -> None:
    user, officer = await an_officer()
    held = await a_full_lead(None, None, EMAIL)
    free = await a_lead(email="ada@example.com")
    hold = await holds.place(
        officer, reason="Litigation 2026-14", owner_id=user.id, lead_id=held.id, now=NOW
    )
    request = await an_approved_erasure(officer, user)

    result = await run(request.id)

    assert result is not None
    assert result.certificate is not None
    assert (result.erased, result.held) == (1, 1)
    assert await clear_value(await Lead.get(id=held.id), "email") == EMAIL
    assert await ContactIndex.filter(lead_id=held.id).exists()
    assert await current_vault().subject_keys([free.id]) == {}
    assert result.certificate["outcome"] == "partially_completed_legal_hold"
    subjects = {s["lead_id"]: s for s in result.certificate["subjects"]}
    assert subjects[str(held.id)]["legal_hold_id"] == str(hold.id)
    assert subjects[str(held.id)]["shredded_key_id"] is None
    assert (await DataSubjectRequest.get(id=request.id)).outcome == (
        "partially_completed_legal_hold"
    )


async def test_a_hold_on_activities_keeps_their_metadata() -> None:
    user, officer = await an_officer()
    lead = await a_full_lead(None, None, EMAIL)
    await holds.place(
        officer, reason="Audit of campaign", owner_id=user.id, category="activities", now=NOW
    )
    request = await an_approved_erasure(officer, user)

    result = await run(request.id)

    assert result is not None
    assert result.certificate is not None
    assert await Activity.filter(lead_id=lead.id, details={}).count() == 0
    assert result.certificate["outcome"] == "partially_completed_legal_hold"
    assert (await Lead.get(id=lead.id)).erased_at is not None


async def test_a_released_or_expired_hold_no_longer_blocks() -> None:
    user, officer = await an_officer()
    lead = await a_full_lead(None, None, EMAIL)
    hold = await holds.place(
        officer, reason="Closed case", owner_id=user.id, lead_id=lead.id, now=NOW
    )
    await holds.place(
        officer,
        reason="Short hold",
        owner_id=user.id,
        lead_id=lead.id,
        expires_at=NOW + timedelta(minutes=1),
        now=NOW,
    )
    await holds.release(officer, hold.id, NOW)
    request = await an_approved_erasure(officer, user)

    result = await run(request.id)

    assert result is not None
    assert (result.erased, result.held) == (1, 0)
    assert await AuditEvent.filter(action__startswith="legal_hold.").count() == 3


async def test_approval_needs_a_fresh_mfa_step_up() -> None:
    user, officer = await an_officer()
    await a_full_lead(None, None, EMAIL)
    request = await a_verified_request(officer, user)
    await erasure.submit(officer, request.id, NOW)
    stale = principal_for(user, mfa_verified_at=NOW - timedelta(minutes=30))

    with pytest.raises(StepUpRequired):
        await erasure.approve(stale, request.id, NOW)

    stored = await DataSubjectRequest.get(id=request.id)
    assert stored.approved_at is None
    with pytest.raises(RequestRefused):
        await run(request.id)


async def test_only_erasure_requests_are_submitted_for_approval() -> None:
    user, officer = await an_officer()
    request = await a_verified_request(officer, user, kind="access")

    with pytest.raises(RequestRefused) as failure:
        await erasure.submit(officer, request.id, NOW)

    assert failure.value.code == "not_erasure"


async def test_a_lead_captured_after_verification_is_included_at_submission() -> None:
    user, officer = await an_officer()
    request = await a_verified_request(officer, user)
    late = await a_lead(email=EMAIL)

    await erasure.submit(officer, request.id, NOW)

    assert await RequestSubject.filter(request_id=request.id, lead_id=late.id).exists()


def test_every_personal_field_about_a_lead_is_handled_by_an_erasure_strategy() -> None:
    covered = {(s.table, f) for s in STRATEGIES for f in s.fields}
    missing = []
    for model in Tortoise.apps["leadvault"].values():
        if model is DataSubjectRequest:
            continue
        for name, field in personal_fields_of(model).items():
            if field.subject_field is None:
                continue
            column = field.source_field or name
            if (model._meta.db_table, column) not in covered:
                missing.append(f"{model._meta.db_table}.{column}")
    assert missing == []
