"""The console's sign-in, session cookie, CSRF and auditor pages, over HTTP."""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from audit.events import Actor, Event, Outcome, record_many
from audit.models import AuditEvent
from compliance.dsr.models import DataSubjectRequest, RequestStatus
from identity import sessions
from identity.admin import OPERATOR
from identity.models import StaffUser
from identity.roles import Role
from rights import requests as dsr_requests
from rights.intake import NewRequest
from server.app import create_app
from server.console.session import DEV_COOKIE, SECURE_COOKIE
from server.settings import Environment, Settings
from tests.builders import graphql
from tests.conftest import app_client, make_settings
from tests.identity.conftest import Account, Clock, an_enrolled_user, frozen  # noqa: F401
from tests.querycount import count_queries

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found, page.text[:500]
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, account: Account, frozen: Clock) -> None:  # noqa: F811
    form = await client.get("/console/sign-in")
    typed = await client.post(
        "/console/sign-in",
        data={"email": account.user.email, "password": account.password, "csrf": csrf_of(form)},
    )
    assert (typed.status_code, typed.headers["location"]) == (303, "/console/sign-in/code")
    code = await client.get("/console/sign-in/code")
    done = await client.post(
        "/console/sign-in/code", data={"code": frozen.code(account.secret), "csrf": csrf_of(code)}
    )
    assert (done.status_code, done.headers["location"]) == (303, "/console/")


@pytest.fixture
async def console(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(settings) as http:
        yield http


async def test_an_auditor_signs_in_with_password_then_code(
    console: httpx.AsyncClient,
    frozen: Clock,  # noqa: F811
) -> None:
    auditor = await an_enrolled_user(Role.AUDITOR)

    await sign_in(console, auditor, frozen)

    home = await console.get("/console/")
    assert home.status_code == 200
    assert 'href="/console/audit"' in home.text
    assert "<script" not in home.text
    assert " style=" not in home.text
    assert home.headers["content-security-policy"].startswith("default-src 'none'; style-src")
    assert "unsafe-inline" not in home.headers["content-security-policy"]
    events = await AuditEvent.filter(action="auth.login.succeeded").values_list(
        "details", flat=True
    )
    assert events == [{"via": "console"}]


async def test_a_wrong_code_keeps_the_visitor_out(
    console: httpx.AsyncClient,
    frozen: Clock,  # noqa: F811
) -> None:
    auditor = await an_enrolled_user(Role.AUDITOR)
    form = await console.get("/console/sign-in")
    await console.post(
        "/console/sign-in",
        data={"email": auditor.user.email, "password": auditor.password, "csrf": csrf_of(form)},
    )
    code = await console.get("/console/sign-in/code")
    wrong = await console.post(
        "/console/sign-in/code", data={"code": "000000", "csrf": csrf_of(code)}
    )
    assert wrong.status_code == 400
    assert 'role="alert"' in wrong.text
    assert (await console.get("/console/audit")).headers["location"] == "/console/sign-in"


async def test_the_cookie_is_host_only_http_only_strict_and_secure_in_production() -> None:
    settings = make_settings(Environment.PROD)
    app = create_app(settings, manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
        auditor = await an_enrolled_user(Role.AUDITOR)
        form = await http.get("/console/sign-in")
        typed = await http.post(
            "/console/sign-in",
            data={"email": auditor.user.email, "password": auditor.password, "csrf": csrf_of(form)},
        )
    cookie = typed.headers["set-cookie"]
    assert cookie.startswith(f"{SECURE_COOKIE}=")
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "path=/", "samesite=strict", "secure"} <= flags
    assert not any(flag.startswith("domain") for flag in flags)


async def test_the_development_cookie_is_not_secure_but_still_strict(
    console: httpx.AsyncClient,
) -> None:
    auditor = await an_enrolled_user(Role.AUDITOR)
    form = await console.get("/console/sign-in")
    typed = await console.post(
        "/console/sign-in",
        data={"email": auditor.user.email, "password": auditor.password, "csrf": csrf_of(form)},
    )
    session = next(c for c in typed.headers.get_list("set-cookie") if c.startswith(DEV_COOKIE))
    flags = {part.strip().lower() for part in session.split(";")[1:]}
    assert {"httponly", "path=/", "samesite=strict"} <= flags
    assert "secure" not in flags


async def test_a_post_without_this_sessions_csrf_token_changes_nothing(
    console: httpx.AsyncClient,
    settings: Settings,
    frozen: Clock,  # noqa: F811
) -> None:
    auditor = await an_enrolled_user(Role.AUDITOR)
    await sign_in(console, auditor, frozen)
    async with app_client(settings) as other:
        await sign_in(other, await an_enrolled_user(Role.AUDITOR), frozen)
        foreign = csrf_of(await other.get("/console/audit/verify"))

    for data in ({}, {"csrf": ""}, {"csrf": foreign}):
        refused = await console.post("/console/sign-out", data=data)
        assert refused.status_code == 403, data
        assert "Nothing was changed" in refused.text
        assert (await console.get("/console/")).status_code == 200  # still signed in
    ran = await console.post("/console/audit/verify", data={"csrf": foreign})
    assert ran.status_code == 403
    assert "The chain is" not in ran.text

    mine = csrf_of(await console.get("/console/"))
    out = await console.post("/console/sign-out", data={"csrf": mine})
    assert (out.status_code, out.headers["location"]) == (303, "/console/sign-in")
    assert (await console.get("/console/")).headers["location"] == "/console/sign-in"


async def test_the_sign_in_form_needs_its_own_csrf_token(console: httpx.AsyncClient) -> None:
    auditor = await an_enrolled_user(Role.AUDITOR)
    await console.get("/console/sign-in")
    refused = await console.post(
        "/console/sign-in", data={"email": auditor.user.email, "password": auditor.password}
    )
    assert refused.status_code == 400
    assert "expired" in refused.text
    assert await AuditEvent.filter(action="auth.login.failed").count() == 0


async def test_an_idle_session_goes_back_to_sign_in(
    console: httpx.AsyncClient,
    frozen: Clock,  # noqa: F811
) -> None:
    await sign_in(console, await an_enrolled_user(Role.AUDITOR), frozen)
    assert (await console.get("/console/audit")).status_code == 200
    frozen.advance(minutes=31)
    expired = await console.get("/console/audit")
    assert (expired.status_code, expired.headers["location"]) == (303, "/console/sign-in")


async def test_a_console_cookie_authenticates_nothing_at_graphql(
    console: httpx.AsyncClient,
    frozen: Clock,  # noqa: F811
) -> None:
    await sign_in(console, await an_enrolled_user(Role.AUDITOR), frozen)
    assert console.cookies.get(DEV_COOKIE)

    body = await graphql(console, "{ me { account { role } } }")

    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_role_without_the_operation_gets_the_403_page_recorded(
    console: httpx.AsyncClient,
    frozen: Clock,  # noqa: F811
) -> None:
    await sign_in(console, await an_enrolled_user(Role.SALES_REP), frozen)

    page = await console.get("/console/audit")

    assert page.status_code == 403
    assert "Not for your role" in page.text
    denied = await AuditEvent.get(action="access.operation.denied")
    assert (denied.fields_denied, denied.details) == (["auditEvents"], {"via": "console"})
    home = await console.get("/console/")
    assert 'href="/console/audit"' not in home.text


async def test_an_auditor_filters_events_pages_and_reads_one(
    console: httpx.AsyncClient,
    settings: Settings,
    frozen: Clock,  # noqa: F811
) -> None:
    await sign_in(console, await an_enrolled_user(Role.AUDITOR), frozen)
    async with app_client(settings) as stranger:
        for _ in range(3):  # refused sign-ins: auth.login.failed, outcome failure
            form = await stranger.get("/console/sign-in")
            await stranger.post(
                "/console/sign-in",
                data={"email": "nobody@staff.example", "password": "x" * 12, "csrf": csrf_of(form)},
            )

    found = await console.get("/console/audit", params={"action": "auth.login.f"})
    assert found.status_code == 200
    assert found.text.count("auth.login.failed") == 3
    assert "auth.login.succeeded" not in found.text
    none = await console.get("/console/audit", params={"action": "auth.", "outcome": "denied"})
    assert "No events match" in none.text
    bad = await console.get("/console/audit", params={"since": "yesterday"})
    assert bad.status_code == 400
    assert 'href="#since"' in bad.text

    seq = await AuditEvent.filter(action="auth.login.failed").first().values_list("seq", flat=True)
    detail = await console.get(f"/console/audit/events/{seq}")
    assert detail.status_code == 200
    assert "auth.login.failed" in detail.text
    assert "nobody@staff.example" not in detail.text


async def test_a_page_of_events_costs_the_same_statements_however_many_there_are(
    console: httpx.AsyncClient,
    frozen: Clock,  # noqa: F811
) -> None:
    await sign_in(console, await an_enrolled_user(Role.AUDITOR), frozen)
    sessions.cache.clear()  # each page then looks its session up, so both count the same
    with count_queries() as few:
        first = await console.get("/console/audit")
    filler = Event(action="test.filler", outcome=Outcome.SUCCESS, actor=Actor.anonymous())
    await record_many([filler] * 200)
    sessions.cache.clear()
    with count_queries() as many:
        second = await console.get("/console/audit")
    assert "Older events" in second.text
    assert "Older events" not in first.text
    assert len(few) == len(many) == 2  # the session, then one page of events


async def test_an_auditor_verifies_the_chain_and_sees_an_edited_row(
    console: httpx.AsyncClient,
    frozen: Clock,  # noqa: F811
) -> None:
    await sign_in(console, await an_enrolled_user(Role.AUDITOR), frozen)
    page = await console.get("/console/audit/verify")
    assert "The chain is" not in page.text

    intact = await console.post("/console/audit/verify", data={"csrf": csrf_of(page)})
    assert "The chain is intact" in intact.text
    download = await console.get("/console/audit/checkpoints.json")
    assert download.headers["content-disposition"].startswith("attachment")
    checkpoints = download.json()["checkpoints"]
    assert checkpoints
    assert all(c["public_key"] and c["signature"] for c in checkpoints)

    first = await AuditEvent.filter(seq__isnull=False).order_by("seq").first()
    assert first is not None
    await AuditEvent.filter(id=first.id).update(action="auth.login.edited")
    broken = await console.post("/console/audit/verify", data={"csrf": csrf_of(page)})
    assert "The chain is broken" in broken.text
    assert f"event #{first.seq}" in broken.text


async def test_an_admin_creates_an_account_and_its_owner_enrols(
    console: httpx.AsyncClient,
    settings: Settings,
    frozen: Clock,  # noqa: F811
) -> None:
    await sign_in(console, await an_enrolled_user(Role.ADMIN), frozen)
    page = await console.get("/console/admin/users")
    created = await console.post(
        "/console/admin/users",
        data={
            "email": "new.auditor@staff.example",
            "display_name": "New Auditor",
            "role": "auditor",
            "csrf": csrf_of(page),
        },
    )
    assert created.status_code == 200
    code = re.search(r'id="enrolment-code" class="secret" readonly value="([^"]+)"', created.text)
    assert code
    again = await console.get("/console/admin/users")
    assert code.group(1) not in again.text  # shown once
    assert "enrolment pending" in again.text

    async with app_client(settings) as newcomer:
        form = await newcomer.get("/console/enrol")
        started = await newcomer.post(
            "/console/enrol",
            data={
                "enrolment_code": code.group(1),
                "password": "a long new passphrase",
                "csrf": csrf_of(form),
            },
        )
        assert started.status_code == 200
        assert 'src="data:image/svg+xml;utf8,' in started.text
        secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', started.text)
        assert secret
        confirmed = await newcomer.post(
            "/console/enrol/confirm",
            data={"code": frozen.code(secret.group(1)), "csrf": csrf_of(started)},
        )
        assert "Your account is ready" in confirmed.text
        assert (await newcomer.get("/console/audit")).status_code == 200


async def test_an_admin_with_stale_mfa_steps_up_in_place_to_reset_mfa(
    console: httpx.AsyncClient,
    frozen: Clock,  # noqa: F811
) -> None:
    admin = await an_enrolled_user(Role.ADMIN)
    target = await an_enrolled_user(Role.AUDITOR)
    await sign_in(console, admin, frozen)
    frozen.advance(minutes=11)  # past the ten-minute step-up window
    page = await console.get(f"/console/admin/users/{target.user.id}")
    url = f"/console/admin/users/{target.user.id}/reset-mfa"

    without = await console.post(url, data={"csrf": csrf_of(page)})
    wrong = await console.post(url, data={"csrf": csrf_of(page), "step_up_code": "000000"})

    assert without.status_code == wrong.status_code == 400
    assert "Enter the code from your authenticator" in without.text
    await target.user.refresh_from_db()
    assert target.user.mfa_enrolled  # nothing changed
    reset = await console.post(
        url, data={"csrf": csrf_of(page), "step_up_code": frozen.code(admin.secret)}
    )
    assert reset.status_code == 200
    assert 'id="enrolment-code"' in reset.text
    await target.user.refresh_from_db()
    assert not target.user.mfa_enrolled
    replayed = await console.post(
        url, data={"csrf": csrf_of(page), "step_up_code": frozen.code(admin.secret)}
    )
    assert replayed.status_code == 400  # a code works once


async def test_an_api_key_secret_is_shown_once_and_the_key_can_be_revoked(
    console: httpx.AsyncClient,
    frozen: Clock,  # noqa: F811
) -> None:
    await sign_in(console, await an_enrolled_user(Role.ADMIN), frozen)
    page = await console.get("/console/admin/keys")
    none = await console.post("/console/admin/keys", data={"name": "Site", "csrf": csrf_of(page)})
    assert none.status_code == 400
    assert 'href="#scopes"' in none.text
    made = await console.post(
        "/console/admin/keys",
        data={"name": "Site", "scope_leads:capture": "1", "csrf": csrf_of(page)},
    )
    secret = re.search(r'id="api-key-secret" class="secret" readonly value="([^"]+)"', made.text)
    assert secret
    listed = await console.get("/console/admin/keys")
    assert secret.group(1) not in listed.text
    assert "leads:capture" in listed.text
    key_id = re.search(r'action="/console/admin/keys/([0-9a-f-]+)/revoke"', listed.text)
    assert key_id
    await console.post(
        f"/console/admin/keys/{key_id.group(1)}/revoke", data={"csrf": csrf_of(page)}
    )
    assert "revoked" in (await console.get("/console/admin/keys")).text


async def test_only_administrators_reach_the_account_pages(
    console: httpx.AsyncClient,
    frozen: Clock,  # noqa: F811
) -> None:
    auditor = await an_enrolled_user(Role.AUDITOR)
    await sign_in(console, auditor, frozen)
    home = await console.get("/console/")
    assert "/console/admin/users" not in home.text
    for path in ("/console/admin/users", "/console/admin/keys"):
        assert (await console.get(path)).status_code == 403
    page = await console.get("/console/audit/verify")
    made = await console.post(
        "/console/admin/users",
        data={
            "email": "x@staff.example",
            "display_name": "X",
            "role": "admin",
            "csrf": csrf_of(page),
        },
    )
    assert made.status_code == 403
    assert not await StaffUser.exists(email="x@staff.example")


async def a_request(
    status: RequestStatus = RequestStatus.VERIFIED, **values: Any
) -> DataSubjectRequest:
    new = NewRequest(kind="access", jurisdiction="gdpr", email="ada.requester@example.org")
    new = dataclasses.replace(new, **values)
    made = await dsr_requests.receive(OPERATOR, new, datetime.now(UTC))
    await DataSubjectRequest.filter(id=made.id).update(status=status)
    return made


async def test_the_queue_hides_unverified_requests_and_requester_names(
    console: httpx.AsyncClient,
    frozen: Clock,  # noqa: F811
) -> None:
    await sign_in(console, await an_enrolled_user(Role.COMPLIANCE_OFFICER), frozen)
    verified = await a_request()
    unverified = await a_request(RequestStatus.RECEIVED, kind="erasure")
    ccpa = await a_request(jurisdiction="ccpa")

    default = await console.get("/console/requests")
    everything = await console.get("/console/requests", params={"unverified": "1"})
    by_law = await console.get("/console/requests", params={"jurisdiction": "ccpa"})
    by_kind = await console.get(
        "/console/requests", params={"kind": "erasure", "status": "received"}
    )

    assert str(verified.id)[:8] in default.text
    assert str(unverified.id)[:8] not in default.text
    assert str(unverified.id)[:8] in everything.text
    assert str(ccpa.id)[:8] in by_law.text
    assert str(verified.id)[:8] not in by_law.text
    assert str(unverified.id)[:8] in by_kind.text
    for page in (default, everything, by_law, by_kind):
        assert "ada.requester" not in page.text
    bad = await console.get("/console/requests", params={"kind": "everything"})
    assert bad.status_code == 400
    assert 'href="#kind"' in bad.text


async def test_days_left_and_deadline_alerts(
    console: httpx.AsyncClient,
    frozen: Clock,  # noqa: F811
) -> None:
    await sign_in(console, await an_enrolled_user(Role.COMPLIANCE_OFFICER), frozen)
    received = datetime.now(UTC) - timedelta(days=40)
    late = await a_request(received_at=received)
    soon = await a_request(received_at=datetime.now(UTC) - timedelta(days=27))
    calm = await a_request()

    overdue = await console.get("/console/requests", params={"alert": "overdue"})
    due_soon = await console.get("/console/requests", params={"alert": "due_soon"})

    assert str(late.id)[:8] in overdue.text
    assert str(soon.id)[:8] not in overdue.text
    assert str(soon.id)[:8] in due_soon.text
    assert str(calm.id)[:8] not in due_soon.text
    assert 'class="badge bad">overdue' in overdue.text
    row = re.search(rf"{str(late.id)[:8]}.*?</tr>", overdue.text, flags=re.DOTALL)
    assert row
    assert re.search(r"<td>-\d+ <span", row.group(0))


async def test_a_queue_page_costs_the_same_statements_however_many_requests(
    console: httpx.AsyncClient,
    frozen: Clock,  # noqa: F811
) -> None:
    await sign_in(console, await an_enrolled_user(Role.COMPLIANCE_OFFICER), frozen)
    await a_request()
    sessions.cache.clear()
    with count_queries() as few:
        first = await console.get("/console/requests")
    for _ in range(60):
        await a_request()
    sessions.cache.clear()
    with count_queries() as many:
        full = await console.get("/console/requests")
    assert "Later requests" in full.text
    assert "Later requests" not in first.text
    assert len(few) == len(many) == 2  # the session, then one page of requests
    later = re.search(r'href="/console/requests\?([^"]+)" rel="next"', full.text)
    assert later
    second = await console.get(f"/console/requests?{html.unescape(later.group(1))}")
    assert second.text.count('aria-label="Request ') == 11


async def test_an_officer_logs_a_request_and_reveals_its_contact_on_purpose(
    console: httpx.AsyncClient,
    frozen: Clock,  # noqa: F811
) -> None:
    await sign_in(console, await an_enrolled_user(Role.COMPLIANCE_OFFICER), frozen)
    form = await console.get("/console/requests/new")
    missing = await console.post(
        "/console/requests/new", data={"jurisdiction": "gdpr", "csrf": csrf_of(form)}
    )
    assert missing.status_code == 400
    assert 'href="#kind"' in missing.text
    assert await DataSubjectRequest.all().count() == 0

    logged = await console.post(
        "/console/requests/new",
        data={
            "kind": "erasure",
            "jurisdiction": "gdpr",
            "email": "grace.requester@example.org",
            "details": "Please delete everything about me",
            "csrf": csrf_of(form),
        },
    )
    assert logged.status_code == 303
    detail = await console.get(logged.headers["location"])
    assert "grace.requester" not in detail.text
    assert "received" in detail.text  # the timeline
    assert await AuditEvent.filter(action="dsr.requester.read").count() == 0

    shown = await console.post(
        logged.headers["location"] + "/requester", data={"csrf": csrf_of(detail)}
    )

    assert "grace.requester@example.org" in shown.text
    read = await AuditEvent.get(action="dsr.requester.read")
    assert (read.fields_touched, read.details) == (["email", "details"], {"via": "console"})
    received = await AuditEvent.get(action="dsr.received")
    assert received.details["via"] == "console"


async def test_other_roles_get_403_on_request_pages(
    console: httpx.AsyncClient,
    frozen: Clock,  # noqa: F811
) -> None:
    made = await a_request()
    await sign_in(console, await an_enrolled_user(Role.AUDITOR), frozen)
    for path in ("/console/requests", "/console/requests/new", f"/console/requests/{made.id}"):
        assert (await console.get(path)).status_code == 403, path
    page = await console.get("/console/audit")
    refused = await console.post(
        f"/console/requests/{made.id}/requester", data={"csrf": csrf_of(page)}
    )
    assert refused.status_code == 403
    assert await AuditEvent.filter(action="dsr.requester.read").count() == 0
