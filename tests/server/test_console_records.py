"""Console records and auditor pages: legal holds, retention, the record of processing, the
consent report, the access report, the log export and the policy matrix; and no personal
value on any page of a role that may not see it."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack

import httpx
import pytest

from audit.models import AuditEvent
from compliance.dsr.models import LegalHold
from identity.roles import Role
from server.settings import Settings
from tests.builders import FULL_LEAD_VALUES, a_full_lead, a_lead, graphql
from tests.conftest import app_client
from tests.identity.conftest import Clock, an_enrolled_user, frozen  # noqa: F401
from tests.server.test_console import csrf_of, sign_in

READ_LEAD = "query ($id: ID!) { lead(id: $id) { id firstName lastName email phone notes } }"


SignedIn = Callable[[Role], Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def as_role(
    settings: Settings,
    frozen: Clock,  # noqa: F811
) -> AsyncIterator[SignedIn]:
    """Console clients, each signed in as a new account of a role."""
    async with AsyncExitStack() as stack:

        async def signed_in(role: Role) -> httpx.AsyncClient:
            http = await stack.enter_async_context(app_client(settings))
            await sign_in(http, await an_enrolled_user(role), frozen)
            return http

        yield signed_in


async def test_an_officer_places_and_releases_a_legal_hold(as_role: SignedIn) -> None:
    console = await as_role(Role.COMPLIANCE_OFFICER)
    lead = await a_lead()
    page = await console.get("/console/holds")
    owner = re.search(r'<option value="([0-9a-f-]{36})" selected>', page.text)
    assert owner
    missing = await console.post(
        "/console/holds",
        data={"target": "lead", "lead_id": str(lead.id), "owner_id": owner.group(1),
              "reason": "", "csrf": csrf_of(page)},
    )  # fmt: skip
    assert missing.status_code == 400
    assert 'href="#reason"' in missing.text
    assert await LegalHold.all().count() == 0

    placed = await console.post(
        "/console/holds",
        data={"target": "lead", "lead_id": str(lead.id), "owner_id": owner.group(1),
              "reason": "Litigation", "csrf": csrf_of(page)},
    )  # fmt: skip
    assert placed.status_code == 303
    hold = await LegalHold.get(lead_id=lead.id)
    listed = await console.get("/console/holds")
    assert str(lead.id) in listed.text
    released = await console.post(f"/console/holds/{hold.id}/release", data={"csrf": csrf_of(page)})
    assert released.status_code == 303
    await hold.refresh_from_db()
    assert hold.released_at is not None


async def test_retention_preview_record_of_processing_and_consent_report(
    as_role: SignedIn,
) -> None:
    console = await as_role(Role.COMPLIANCE_OFFICER)
    await a_lead()
    retention = await console.get("/console/retention")
    assert retention.status_code == 200
    assert "audit events" in retention.text
    assert "No retention run yet." in retention.text
    ropa = await console.get("/console/record-of-processing")
    assert "Record of processing activities" in ropa.text
    as_json = await console.get("/console/record-of-processing.json")
    assert as_json.json()["kind"] == "leadvault.record-of-processing"
    as_csv = await console.get("/console/record-of-processing.csv")
    assert as_csv.text.startswith("controller,purpose")
    assert (await console.get("/console/record-of-processing.xml")).status_code == 404
    report = await console.get("/console/consent-report")
    assert "legitimate interest" in report.text

    auditor = await as_role(Role.AUDITOR)
    assert (await auditor.get("/console/record-of-processing")).status_code == 200
    assert (await auditor.get("/console/retention")).status_code == 403
    assert (await auditor.get("/console/holds")).status_code == 403


async def test_no_personal_value_reaches_an_auditors_pages(
    as_role: SignedIn, client: httpx.AsyncClient
) -> None:
    lead = await a_full_lead(None, None, "ada.private@example.org")
    body = await graphql(client, READ_LEAD, {"id": str(lead.id)})
    assert body["data"]["lead"]["lastName"] == "Lovelace"  # the values exist and were read
    auditor = await as_role(Role.AUDITOR)

    pages = [
        await auditor.get("/console/audit"),
        await auditor.get("/console/audit", params={"subject": str(lead.id)}),
        await auditor.get("/console/audit/subjects", params={"subject": str(lead.id)}),
        await auditor.get("/console/audit/events.jsonl"),
        await auditor.get("/console/audit/events.csv"),
        await auditor.get("/console/policy"),
    ]
    seqs = await AuditEvent.filter(seq__isnull=False).values_list("seq", flat=True)
    pages += [await auditor.get(f"/console/audit/events/{seq}") for seq in seqs]

    assert all(page.status_code == 200 for page in pages)
    assert "lead.read" in pages[2].text
    seeded = [*FULL_LEAD_VALUES.values(), "ada.private@example.org"]
    # ids, hashes and signatures are hex, where a short name like "ada" can occur by chance
    texts = [(p.url.path, re.sub(r"[0-9a-f-]{8,}", " ", p.text.lower())) for p in pages]
    leaked = [(path, v) for path, text in texts for v in seeded if v.lower() in text]
    assert leaked == []


async def test_the_access_report_and_the_export_are_audited(as_role: SignedIn) -> None:
    auditor = await as_role(Role.AUDITOR)
    subject = uuid.uuid4()

    report = await auditor.get("/console/audit/subjects", params={"subject": str(subject)})
    bad = await auditor.get("/console/audit/subjects", params={"subject": "not-an-id"})
    exported = await auditor.get("/console/audit/events.jsonl")

    assert "Nothing recorded" in report.text
    assert bad.status_code == 400
    read = await AuditEvent.get(action="audit.access_report.read")
    assert (read.target_id, read.details) == (str(subject), {"entries": 0, "via": "console"})
    lines = exported.text.splitlines()
    assert all(json.loads(line)["hash"] for line in lines)
    done = await AuditEvent.get(action="audit.exported")
    assert done.details["events"] == len(lines)
    assert done.details["format"] == "jsonl"


async def test_the_policy_matrix_shows_every_personal_field(as_role: SignedIn) -> None:
    auditor = await as_role(Role.AUDITOR)
    page = await auditor.get("/console/policy")
    assert "Lead.email" in page.text
    assert "reveal with consent to" in page.text
    rep = await as_role(Role.SALES_REP)
    assert (await rep.get("/console/policy")).status_code == 403
