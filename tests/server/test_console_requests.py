"""Working a data-subject request from its console page: the identity code, assignment,
extension and rejection with reasons, an export link, and an erasure submitted, approved
with a fresh code, run and certified."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from audit.models import AuditEvent
from compliance.dsr.models import DataSubjectRequest, RequestStatus
from identity.roles import Role
from leads.models import Lead
from rights import certificate
from server.settings import Settings
from tests.builders import a_lead
from tests.conftest import app_client
from tests.identity.conftest import Account, Clock, an_enrolled_user, frozen  # noqa: F401
from tests.rights.helpers import sent_code
from tests.server.test_console import csrf_of, sign_in


@pytest.fixture
async def officer_console(
    settings: Settings,
    frozen: Clock,  # noqa: F811
) -> AsyncIterator[tuple[httpx.AsyncClient, Account]]:
    officer = await an_enrolled_user(Role.COMPLIANCE_OFFICER)
    async with app_client(settings) as http:
        await sign_in(http, officer, frozen)
        yield http, officer


async def logged(console: httpx.AsyncClient, kind: str, email: str) -> str:
    form = await console.get("/console/requests/new")
    done = await console.post(
        "/console/requests/new",
        data={"kind": kind, "jurisdiction": "gdpr", "email": email, "csrf": csrf_of(form)},
    )
    assert done.status_code == 303
    return str(done.headers["location"])


async def post(console: httpx.AsyncClient, url: str, **data: str) -> httpx.Response:
    """A form post with this session's CSRF token (from any of its pages)."""
    page = await console.get("/console/requests/new")
    return await console.post(url, data={**data, "csrf": csrf_of(page)})


async def test_an_erasure_from_identity_code_to_verified_certificate(
    officer_console: tuple[httpx.AsyncClient, Account],
    frozen: Clock,  # noqa: F811
) -> None:
    console, officer = officer_console
    lead = await a_lead(email="erase.me@example.org")
    page = await logged(console, "erasure", "erase.me@example.org")
    request_id = page.rsplit("/", 1)[1]

    sent = await post(console, f"{page}/send-code")
    assert sent.headers["location"].endswith("done=code_sent")
    wrong = await post(console, f"{page}/verify", identity_code="000000")
    assert wrong.status_code == 400
    assert "tries left" in wrong.text
    verified = await post(console, f"{page}/verify", identity_code=await sent_code(request_id))
    assert verified.status_code == 303
    assigned = await post(console, f"{page}/assign", assignee_id=str(officer.user.id))
    assert assigned.status_code == 303
    submitted = await post(console, f"{page}/erasure/submit")
    assert submitted.headers["location"].endswith("done=submitted")

    frozen.advance(minutes=11)  # past the step-up window
    stale = await post(console, f"{page}/erasure/approve")
    assert stale.status_code == 400
    assert "Enter the code from your authenticator" in stale.text
    assert await Lead.filter(id=lead.id, erased_at__isnull=True).exists()
    approved = await post(
        console, f"{page}/erasure/approve", step_up_code=frozen.code(officer.secret)
    )
    assert approved.headers["location"].endswith("done=approved")

    shown = await console.get(approved.headers["location"])
    assert "The certificate's signature is valid against the published key." in shown.text
    download = await console.get(f"{page}/certificate.json")
    document = download.json()
    assert certificate.verify(document, await certificate.public_key_hex()).valid
    assert not await Lead.filter(id=lead.id, erased_at__isnull=True).exists()
    approval = await AuditEvent.get(action="dsr.erasure.approved")
    assert approval.details["via"] == "console"
    assert "erase.me" not in json.dumps(document)


async def test_extension_and_rejection_need_their_reasons(
    officer_console: tuple[httpx.AsyncClient, Account],
) -> None:
    console, _ = officer_console
    page = await logged(console, "access", "someone@example.org")
    request_id = page.rsplit("/", 1)[1]
    before = await DataSubjectRequest.get(id=request_id)

    no_reason = await post(console, f"{page}/extend", by="1", reason="")
    too_long = await post(console, f"{page}/extend", by="3", reason="complex")
    unreasoned = await post(console, f"{page}/reject")

    assert no_reason.status_code == too_long.status_code == unreasoned.status_code == 400
    assert 'href="#reason"' in no_reason.text
    assert "Between 1 and 2 months" in too_long.text
    assert 'href="#rejection_reason"' in unreasoned.text
    after = await DataSubjectRequest.get(id=request_id)
    assert (after.due_at, after.status) == (before.due_at, before.status)

    extended = await post(console, f"{page}/extend", by="2", reason="Many systems to search")
    assert extended.headers["location"].endswith("done=extended")
    again = await post(console, f"{page}/extend", by="1", reason="More")
    assert again.status_code == 400
    assert "only once" in again.text
    rejected = await post(console, f"{page}/reject", reason="duplicate", note="Sent twice")
    assert rejected.headers["location"].endswith("done=rejected")
    assert (await DataSubjectRequest.get(id=request_id)).status is RequestStatus.REJECTED


async def test_an_access_export_link_is_shown_once(
    officer_console: tuple[httpx.AsyncClient, Account],
) -> None:
    console, _ = officer_console
    await a_lead(email="reader@example.org")
    page = await logged(console, "access", "reader@example.org")
    request_id = page.rsplit("/", 1)[1]
    await post(console, f"{page}/send-code")
    await post(console, f"{page}/verify", identity_code=await sent_code(request_id))

    made = await post(console, f"{page}/export", format="json")

    assert made.status_code == 200
    assert 'id="export-link"' in made.text
    assert "/dsr/exports/" in made.text
    assert 'id="export-link"' not in (await console.get(page)).text


async def test_a_request_page_refuses_a_stale_form_and_changes_nothing(
    officer_console: tuple[httpx.AsyncClient, Account],
) -> None:
    console, _ = officer_console
    page = await logged(console, "erasure", "x@example.org")
    refused = await console.post(f"{page}/send-code", data={"csrf": "forged"})
    assert refused.status_code == 403
    assert await AuditEvent.filter(action="dsr.identity.code_sent").count() == 0


async def test_the_assigned_officer_sees_the_requesters_leads_under_its_purpose(
    officer_console: tuple[httpx.AsyncClient, Account],
    settings: Settings,
    frozen: Clock,  # noqa: F811
) -> None:
    console, officer = officer_console
    lead = await a_lead(email="subject.person@example.org", last_name="Hopper")
    page = await logged(console, "access", "subject.person@example.org")
    request_id = page.rsplit("/", 1)[1]
    await post(console, f"{page}/send-code")
    await post(console, f"{page}/verify", identity_code=await sent_code(request_id))
    before = await console.get(f"{page}/leads")
    assert before.status_code == 403  # verified, not yet assigned to anyone
    assert "Hopper" not in before.text

    await post(console, f"{page}/assign", assignee_id=str(officer.user.id))
    shown = await console.get(f"{page}/leads")

    assert shown.status_code == 200
    assert "subject.person@example.org" in shown.text
    assert "Hopper" in shown.text
    read = await AuditEvent.filter(action="lead.read").order_by("-seq").first()
    assert read is not None
    assert read.purpose == f"data_subject_request:{request_id}"
    assert read.details.get("via") == "console"
    assert str(lead.id) in read.subject_ids

    async with app_client(settings) as other:
        await sign_in(other, await an_enrolled_user(Role.COMPLIANCE_OFFICER), frozen)
        refused = await other.get(f"{page}/leads")
    assert refused.status_code == 403
    assert "Hopper" not in refused.text


async def test_a_rectification_corrects_the_lead_and_an_access_request_closes(
    officer_console: tuple[httpx.AsyncClient, Account],
) -> None:
    console, officer = officer_console
    lead = await a_lead(email="wrong.name@example.org", last_name="Hoper")
    page = await logged(console, "rectification", "wrong.name@example.org")
    request_id = page.rsplit("/", 1)[1]
    await post(console, f"{page}/send-code")
    await post(console, f"{page}/verify", identity_code=await sent_code(request_id))
    await post(console, f"{page}/assign", assignee_id=str(officer.user.id))
    empty = await post(console, f"{page}/rectify", lead_id=str(lead.id))
    assert empty.status_code == 400

    fixed = await post(console, f"{page}/rectify", lead_id=str(lead.id), last_name="Hopper")

    assert fixed.headers["location"].endswith("done=rectified")
    event = await AuditEvent.get(action="lead.rectified")
    assert event.fields_touched == ["last_name"]
    assert "Hopper" not in json.dumps(event.details)
    closed = await post(console, f"{page}/complete")
    assert closed.headers["location"].endswith("done=completed")
    assert (await DataSubjectRequest.get(id=request_id)).status is RequestStatus.COMPLETED
