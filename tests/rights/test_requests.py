"""Receiving, verifying, assigning, extending and rejecting data-subject requests."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from audit.models import AuditEvent
from compliance.dsr.models import (
    DataSubjectRequest,
    RejectionReason,
    RequestStatus,
    RequestSubject,
)
from compliance.models import OutboxMessage
from compliance.outbox import open_message
from core.errors import ValidationFailed
from identity.errors import Forbidden
from identity.roles import Role
from rights import requests, verification
from rights.config import dsr_config, install_dsr_config
from rights.errors import CodeRejected, RequestRefused
from rights.subjects import RequestPurposes
from tests.builders import a_lead, a_staff_user, principal_for
from tests.rights.helpers import (
    NOW,
    a_request,
    a_verified_request,
    an_officer,
    sent_code,
)


async def test_a_request_is_logged_with_its_deadline_and_a_sealed_contact() -> None:
    _, officer = await an_officer()

    request = await a_request(officer, kind="access", email="Ada@Example.com")

    assert request.status is RequestStatus.RECEIVED
    assert request.due_at == NOW.replace(month=4)
    assert request.requester_email is not None
    assert b"Ada@Example.com" not in request.requester_email
    event = await AuditEvent.get(action="dsr.received")
    assert event.target_id == str(request.id)
    assert "example" not in str(event.details)


async def test_invalid_requests_name_the_field_and_store_nothing() -> None:
    _, officer = await an_officer()

    with pytest.raises(ValidationFailed) as failure:
        await requests.receive(
            officer,
            requests.NewRequest(kind="delete_me", jurisdiction="gdpr", email="not-an-email"),
            NOW,
        )

    assert {e.field for e in failure.value.errors} == {"kind", "email"}
    assert "not-an-email" not in str(failure.value)
    assert await DataSubjectRequest.all().count() == 0


async def test_a_request_needs_an_email_or_a_phone() -> None:
    _, officer = await an_officer()

    with pytest.raises(ValidationFailed) as failure:
        await a_request(officer, email=None, phone=None)

    assert [e.code for e in failure.value.errors] == ["required"]


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.SALES_MANAGER, Role.AUDITOR, Role.ADMIN])
async def test_only_compliance_officers_work_requests(role: Role) -> None:
    other = principal_for(await a_staff_user(role))

    with pytest.raises(Forbidden):
        await a_request(other)


async def test_the_code_goes_to_the_requester_and_acknowledges_receipt() -> None:
    _, officer = await an_officer()
    request = await a_request(officer, jurisdiction="ccpa")

    await verification.send_code(officer, request.id, NOW)

    row = await OutboxMessage.get(lead_id=request.id)
    message = await open_message(row)
    assert message is not None
    assert message.recipient == "ada@example.com"
    stored = await DataSubjectRequest.get(id=request.id)
    assert stored.status is RequestStatus.IDENTITY_PENDING
    assert stored.acknowledged_at == NOW
    assert stored.code_hash is not None
    assert (await sent_code(request.id)) not in stored.code_hash


async def test_the_right_code_verifies_and_links_every_lead_of_the_person() -> None:
    _, officer = await an_officer()
    by_email = await a_lead(email="ada@example.com")
    duplicate = await a_lead(email="ADA@example.com ")
    by_phone = await a_lead(email="other@example.com", phone="+442079460912")
    await a_lead(email="someone.else@example.com")
    request = await a_request(officer, phone="+44 20 7946 0912")
    await verification.send_code(officer, request.id, NOW)

    verified = await verification.verify_code(officer, request.id, await sent_code(request.id), NOW)

    assert verified.status is RequestStatus.VERIFIED
    linked = {s.lead_id: s.matched_on for s in await RequestSubject.filter(request_id=request.id)}
    assert linked == {by_email.id: "email", duplicate.id: "email", by_phone.id: "phone"}


async def test_wrong_codes_are_counted_and_the_limit_needs_a_new_code() -> None:
    before = dsr_config()
    install_dsr_config(replace(before, code_attempts=3))
    try:
        _, officer = await an_officer()
        request = await a_request(officer)
        await verification.send_code(officer, request.id, NOW)
        code = await sent_code(request.id)
        wrong = f"{(int(code) + 1) % 10**6:06d}"

        remaining = []
        for _ in range(3):
            with pytest.raises(CodeRejected) as failure:
                await verification.verify_code(officer, request.id, wrong, NOW)
            remaining.append(failure.value.remaining)
        with pytest.raises(CodeRejected) as locked_out:
            await verification.verify_code(officer, request.id, code, NOW)

        assert remaining == [2, 1, 0]
        assert locked_out.value.reason == "attempts_used"
        assert (await DataSubjectRequest.get(id=request.id)).verified_at is None
        assert await AuditEvent.filter(action="dsr.identity.failed").count() == 4

        later = NOW + timedelta(minutes=1)
        await verification.send_code(officer, request.id, later)
        fresh = await sent_code(request.id)
        verified = await verification.verify_code(officer, request.id, fresh, later)
        assert verified.status is RequestStatus.VERIFIED
    finally:
        install_dsr_config(before)


async def test_an_expired_code_is_refused() -> None:
    _, officer = await an_officer()
    request = await a_request(officer)
    await verification.send_code(officer, request.id, NOW)
    code = await sent_code(request.id)

    with pytest.raises(CodeRejected) as failure:
        await verification.verify_code(officer, request.id, code, NOW + timedelta(minutes=31))

    assert failure.value.reason == "expired"


async def test_a_used_code_cannot_be_replayed() -> None:
    _, officer = await an_officer()
    request = await a_request(officer)
    await verification.send_code(officer, request.id, NOW)
    code = await sent_code(request.id)
    await verification.verify_code(officer, request.id, code, NOW)

    with pytest.raises(RequestRefused) as failure:
        await verification.verify_code(officer, request.id, code, NOW)

    assert failure.value.code == "invalid_status"


async def test_the_purpose_is_open_only_to_the_assigned_officer_while_in_progress() -> None:
    user, officer = await an_officer()
    other_user, other = await an_officer()
    lead = await a_lead(email="ada@example.com")
    request = await a_verified_request(officer, user)
    provider = RequestPurposes()

    assert await provider.subjects(officer, str(request.id)) == frozenset({lead.id})
    assert await provider.subjects(other, str(request.id)) is None
    rep = principal_for(await a_staff_user(Role.SALES_REP))
    assert await provider.subjects(rep, str(request.id)) is None
    assert await provider.subjects(officer, "not-a-uuid") is None

    await requests.reject(officer, request.id, RejectionReason.DUPLICATE, None, NOW)
    assert await provider.subjects(officer, str(request.id)) is None
    assert other_user.id != user.id


async def test_another_officer_cannot_change_an_assigned_request() -> None:
    user, officer = await an_officer()
    _, other = await an_officer()
    request = await a_verified_request(officer, user)

    with pytest.raises(RequestRefused) as failure:
        await requests.reject(other, request.id, RejectionReason.EXCESSIVE, None, NOW)

    assert failure.value.code == "assigned_elsewhere"
    assert (await DataSubjectRequest.get(id=request.id)).status is RequestStatus.IN_PROGRESS


async def test_assigning_needs_an_active_compliance_officer() -> None:
    _, officer = await an_officer()
    request = await a_request(officer)
    rep = await a_staff_user(Role.SALES_REP)

    with pytest.raises(ValidationFailed) as failure:
        await requests.assign(officer, request.id, rep.id, NOW)

    assert failure.value.errors[0].field == "assignee_id"


async def test_extending_moves_the_deadline_records_why_and_tells_the_person() -> None:
    user, officer = await an_officer()
    request = await a_verified_request(officer, user)

    extended = await requests.extend(officer, request.id, 2, "Many systems to search", NOW)

    assert extended.status is RequestStatus.EXTENDED
    assert extended.due_at == NOW.replace(month=6)
    assert extended.first_due_at == NOW.replace(month=4)
    notice = await OutboxMessage.get(lead_id=request.id, template="dsr_extension")
    message = await open_message(notice)
    assert message is not None
    assert "2026-06-02" in message.body
    assert extended.extension_reason is not None
    assert b"Many systems" not in extended.extension_reason
    with pytest.raises(RequestRefused, match="only once"):
        await requests.extend(officer, request.id, 1, "again", NOW)


async def test_an_extension_after_the_first_deadline_changes_nothing() -> None:
    user, officer = await an_officer()
    request = await a_verified_request(officer, user)

    with pytest.raises(RequestRefused):
        await requests.extend(officer, request.id, 1, "late", NOW + timedelta(days=40))

    stored = await DataSubjectRequest.get(id=request.id)
    assert stored.due_at == stored.first_due_at
    assert not await OutboxMessage.filter(template="dsr_extension").exists()


async def test_a_rejection_for_another_reason_needs_a_note() -> None:
    _, officer = await an_officer()
    request = await a_request(officer)

    with pytest.raises(ValidationFailed):
        await requests.reject(officer, request.id, RejectionReason.OTHER, "  ", NOW)
    rejected = await requests.reject(
        officer, request.id, RejectionReason.OTHER, "Asked on behalf of someone else", NOW
    )

    assert rejected.status is RequestStatus.REJECTED
    assert rejected.completed_at == NOW
    event = await AuditEvent.get(action="dsr.rejected")
    assert event.details == {"kind": "erasure", "reason": "other"}


async def test_alerts_list_requests_due_within_a_week_and_overdue_ones() -> None:
    _, officer = await an_officer()
    soon = await a_request(officer, now=NOW - timedelta(days=25))
    late = await a_request(officer, now=NOW - timedelta(days=40))
    await a_request(officer, now=NOW)
    closed = await a_request(officer, now=NOW - timedelta(days=40))
    await requests.reject(officer, closed.id, RejectionReason.DUPLICATE, None, NOW)

    due_soon = await requests.list_requests(officer, requests.RequestFilter(alert="due_soon"), NOW)
    overdue = await requests.list_requests(officer, requests.RequestFilter(alert="overdue"), NOW)

    assert [r.id for r in overdue] == [late.id]
    assert [r.id for r in due_soon] == [late.id, soon.id]
    assert requests.alert_of(soon, NOW) == "due_soon"
    assert requests.alert_of(late, NOW) == "overdue"
    assert requests.alert_of(await DataSubjectRequest.get(id=closed.id), NOW) is None


async def test_an_unacknowledged_ccpa_request_alerts_on_its_acknowledgement_deadline() -> None:
    _, officer = await an_officer()
    request = await a_request(officer, jurisdiction="ccpa", now=NOW - timedelta(days=16))

    assert requests.alert_of(request, NOW) == "overdue"
    await verification.send_code(officer, request.id, NOW)
    assert requests.alert_of(await DataSubjectRequest.get(id=request.id), NOW) is None


async def test_the_officer_reads_what_the_requester_gave_and_the_read_is_audited() -> None:
    _, officer = await an_officer()
    request = await requests.receive(
        officer,
        requests.NewRequest(
            kind="rectification",
            jurisdiction="gdpr",
            email="ada@example.com",
            details="My surname is spelt Lovelace",
        ),
        NOW,
    )

    found = await requests.requester_of(officer, request.id, NOW)

    assert found == requests.Requester("ada@example.com", None, "My surname is spelt Lovelace")
    event = await AuditEvent.get(action="dsr.requester.read")
    assert event.fields_touched == ["email", "details"]
    assert "Lovelace" not in str(event.details)
    rep = principal_for(await a_staff_user(Role.SALES_REP))
    with pytest.raises(Forbidden):
        await requests.requester_of(rep, request.id, NOW)
