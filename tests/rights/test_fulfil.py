"""Rectification and objection requests."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from compliance.consent.models import ConsentEvent, ConsentState
from compliance.consent.purposes import EMAIL_MARKETING, PROFILING, purposes
from compliance.dsr.models import RequestStatus
from core.errors import NotFound, ValidationFailed
from crypto.blind_index import IndexKind
from leads.contacts import lead_ids_with
from leads.models import Lead
from rights import fulfil
from rights.errors import RequestRefused
from tests.builders import a_lead, clear_value
from tests.rights.helpers import NOW, a_verified_request, an_officer

EMAIL = "ada@example.com"


async def test_an_objection_withdraws_every_purpose_for_every_lead_of_the_person() -> None:
    user, officer = await an_officer()
    first = await a_lead(email=EMAIL, consents=(EMAIL_MARKETING,))
    second = await a_lead(email=EMAIL)
    request = await a_verified_request(officer, user, kind="objection")

    done = await fulfil.complete(officer, request.id, NOW)

    assert done.status is RequestStatus.COMPLETED
    for lead in (first, second):
        states = await ConsentState.filter(lead_id=lead.id)
        assert states
        assert all(s.status != "granted" for s in states)
    withdrawals = await ConsentEvent.filter(kind="withdrawn", source="data_subject_request")
    assert {w.source_ref for w in withdrawals} == {str(request.id)}
    assert (await AuditEvent.get(action="dsr.completed")).details["withdrawals"] == len(withdrawals)


async def test_an_objection_can_name_only_profiling() -> None:
    user, officer = await an_officer()
    lead = await a_lead(email=EMAIL, consents=(EMAIL_MARKETING,))
    request = await a_verified_request(officer, user, kind="objection")

    await fulfil.complete(officer, request.id, NOW, objected_purposes=[PROFILING])

    states = {s.purpose: s.status for s in await ConsentState.filter(lead_id=lead.id)}
    assert states[PROFILING] != "granted"
    assert states[EMAIL_MARKETING] == "granted"
    with pytest.raises(ValidationFailed):
        await fulfil.complete(officer, request.id, NOW, objected_purposes=["spying"])
    assert PROFILING in purposes().names


async def test_rectification_corrects_the_lead_and_its_lookup() -> None:
    user, officer = await an_officer()
    lead = await a_lead(email=EMAIL, last_name="Lovelase")
    request = await a_verified_request(officer, user, kind="rectification")

    changed = await fulfil.rectify(
        officer, request.id, lead.id, {"last_name": "Lovelace", "email": "ada@new.example"}, NOW
    )

    stored = await Lead.get(id=lead.id)
    assert changed == ["email", "last_name"]
    assert await clear_value(stored, "last_name") == "Lovelace"
    assert await lead_ids_with(IndexKind.EMAIL, "ada@new.example") == [lead.id]
    assert await lead_ids_with(IndexKind.EMAIL, EMAIL) == []
    event = await AuditEvent.get(action="lead.rectified")
    assert event.fields_touched == ["email", "last_name"]
    assert event.purpose == f"data_subject_request:{request.id}"


async def test_rectification_reaches_only_the_requesters_leads_and_fields() -> None:
    user, officer = await an_officer()
    await a_lead(email=EMAIL)
    stranger = await a_lead(email="someone@example.com")
    request = await a_verified_request(officer, user, kind="rectification")

    with pytest.raises(NotFound):
        await fulfil.rectify(officer, request.id, stranger.id, {"last_name": "X"}, NOW)
    with pytest.raises(ValidationFailed) as failure:
        await fulfil.rectify(officer, request.id, stranger.id, {"stage": "customer"}, NOW)

    assert failure.value.errors[0].field == "stage"
    assert await clear_value(await Lead.get(id=stranger.id), "last_name") != "X"


async def test_an_erasure_is_not_completed_by_hand() -> None:
    user, officer = await an_officer()
    request = await a_verified_request(officer, user, kind="erasure")

    with pytest.raises(RequestRefused):
        await fulfil.complete(officer, request.id, NOW)
