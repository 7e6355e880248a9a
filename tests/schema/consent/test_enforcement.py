"""What consent changes in what people see and what jobs do: marketers' email reveal and
exports, analysts' rows, scores, staff and self-service changes, the report."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import httpx

from audit.events import Actor
from audit.models import AuditEvent
from compliance.consent.ledger import ConsentChange
from compliance.consent.models import ConsentState
from compliance.consent.purposes import ANALYTICS, EMAIL_MARKETING, PROFILING
from compliance.models import OutboxMessage
from compliance.outbox import open_message
from identity.roles import Role
from leads.consent_jobs import run_consent_job
from leads.marketing import export_csv
from leads.models import Lead
from tests.builders import (
    a_lead,
    a_staff_user,
    a_team,
    graphql,
    ledger_entries,
    pseudonym_of,
    session_token,
)

LEAD = """query ($id: ID!) { lead(id: $id) {
  email score scoreStatus consents { purpose status } } }"""
GRANT = """mutation ($id: ID!, $purpose: String!) {
  grantConsent(leadId: $id, purpose: $purpose,
               evidence: {method: PHONE_CALL, note: "Asked for the newsletter"}) {
    __typename
    ... on ConsentPayload { record { kind source method note } }
    ... on NotFound { entity }
  } }"""
WITHDRAW = """mutation ($id: ID!, $purpose: String!) {
  withdrawConsent(leadId: $id, purpose: $purpose, evidence: {method: EMAIL}) {
    __typename ... on ConsentPayload { record { kind } } } }"""


async def _as(role: Role) -> str:
    return await session_token(await a_staff_user(role, await a_team()))


async def test_a_marketer_sees_an_email_only_while_the_lead_consents_to_email_marketing(
    anonymous_client: httpx.AsyncClient,
) -> None:
    lead = await a_lead(email="keen@example.com", consents=(EMAIL_MARKETING,))
    marketer = await _as(Role.MARKETER)

    before = await graphql(anonymous_client, LEAD, {"id": str(lead.id)}, token=marketer)
    await ledger_entries(lead.id, [ConsentChange(EMAIL_MARKETING, granted=False)])
    after = await graphql(anonymous_client, LEAD, {"id": str(lead.id)}, token=marketer)

    assert before["data"]["lead"]["email"] == "keen@example.com"
    assert after["data"]["lead"]["email"] == "k•••@example.com"


async def test_scores_read_only_with_a_profiling_basis_and_the_job_clears_the_rest(
    anonymous_client: httpx.AsyncClient,
) -> None:
    kept = await a_lead(score=80, fit_score=50, engagement_score=30)
    objected = await a_lead(score=70, fit_score=40, engagement_score=30)
    await ledger_entries(objected.id, [ConsentChange(PROFILING, granted=False)])
    analyst = await _as(Role.ANALYST)

    shown = await graphql(anonymous_client, LEAD, {"id": pseudonym_of(objected.id)}, token=analyst)
    report = await run_consent_job(Actor.operator(), datetime.now(UTC))

    lead = shown["data"]["lead"]
    assert lead["score"] is None
    assert lead["scoreStatus"] == "NOT_SCORED_NO_BASIS"
    assert report.scores_cleared == 1
    assert (await Lead.get(id=objected.id)).score == 0
    assert (await Lead.get(id=kept.id)).score == 80
    kept_view = await graphql(anonymous_client, LEAD, {"id": pseudonym_of(kept.id)}, token=analyst)
    assert kept_view["data"]["lead"]["score"] == 80
    assert kept_view["data"]["lead"]["scoreStatus"] == "SCORED"


async def test_analysts_count_only_leads_with_an_analytics_basis(
    anonymous_client: httpx.AsyncClient,
) -> None:
    await a_lead()
    objected = await a_lead()
    await a_lead(bases=False)
    await ledger_entries(objected.id, [ConsentChange(ANALYTICS, granted=False)])
    analyst = await _as(Role.ANALYST)

    body = await graphql(anonymous_client, "{ leads(first: 10) { totalCount } }", token=analyst)

    assert body["data"]["leads"]["totalCount"] == 1


async def test_a_rep_records_consent_with_evidence_on_their_own_lead_only(
    anonymous_client: httpx.AsyncClient,
) -> None:
    team = await a_team()
    rep = await a_staff_user(Role.SALES_REP, team)
    own = await a_lead(owner_id=rep.id, team_id=team.id)
    other = await a_lead()
    token = await session_token(rep)

    granted = await graphql(
        anonymous_client, GRANT, {"id": str(own.id), "purpose": EMAIL_MARKETING}, token=token
    )
    elsewhere = await graphql(
        anonymous_client, GRANT, {"id": str(other.id), "purpose": EMAIL_MARKETING}, token=token
    )
    withdrawn = await graphql(
        anonymous_client, WITHDRAW, {"id": str(own.id), "purpose": EMAIL_MARKETING}, token=token
    )

    assert granted["data"]["grantConsent"]["record"] == {
        "kind": "GRANTED",
        "source": "STAFF",
        "method": "PHONE_CALL",
        "note": "Asked for the newsletter",
    }
    assert elsewhere["data"]["grantConsent"] == {"__typename": "NotFound", "entity": "lead"}
    assert withdrawn["data"]["withdrawConsent"]["record"] == {"kind": "WITHDRAWN"}
    state = await ConsentState.get(lead_id=own.id, purpose=EMAIL_MARKETING)
    assert state.status == "withdrawn"
    assert not await ConsentState.filter(lead_id=other.id, purpose=EMAIL_MARKETING).exists()


async def test_roles_that_do_not_work_leads_cannot_record_consent(
    anonymous_client: httpx.AsyncClient,
) -> None:
    lead = await a_lead()
    for role in (Role.ANALYST, Role.AUDITOR, Role.COMPLIANCE_OFFICER):
        body = await graphql(
            anonymous_client,
            GRANT,
            {"id": str(lead.id), "purpose": EMAIL_MARKETING},
            token=await _as(role),
        )
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    anonymous = await graphql(anonymous_client, GRANT, {"id": str(lead.id), "purpose": "x"})
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


SUBJECT = """query ($t: String!) { subjectConsent(token: $t) { __typename
  ... on SubjectConsent { purposes { purpose { name } status } } } }"""
SET = """mutation ($t: String!) { setSubjectConsent(token: $t, purpose: "email_marketing",
  granted: false) { __typename ... on SubjectConsent { purposes { purpose { name } status } } } }"""


def _status(view: dict[str, Any], name: str) -> str | None:
    return next(p["status"] for p in view["purposes"] if p["purpose"]["name"] == name)


async def test_the_person_withdraws_through_the_link_emailed_to_them(
    client: httpx.AsyncClient,
) -> None:
    lead = await a_lead(email="self@example.com", consents=(EMAIL_MARKETING,))

    sent = await graphql(
        client,
        "mutation ($id: ID!) { sendConsentLink(leadId: $id) { __typename "
        "... on ConsentLinkSent { expiresAt } } }",
        {"id": str(lead.id)},
    )
    message = await open_message(await OutboxMessage.get(template="consent_self_service"))
    assert message is not None
    token = message.body.split("token=")[1].split()[0]
    del client.headers["Authorization"]
    seen = await graphql(client, SUBJECT, {"t": token})
    changed = await graphql(client, SET, {"t": token})
    forged = await graphql(client, SUBJECT, {"t": token[:-3] + "AAA"})

    assert "token" not in str(sent)
    assert message.recipient == "self@example.com"
    assert _status(seen["data"]["subjectConsent"], EMAIL_MARKETING) == "GRANTED"
    assert _status(changed["data"]["setSubjectConsent"], EMAIL_MARKETING) == "WITHDRAWN"
    assert forged["data"]["subjectConsent"]["__typename"] == "InvalidLink"
    state = await ConsentState.get(lead_id=lead.id, purpose=EMAIL_MARKETING)
    assert (state.status, state.source) == ("withdrawn", "self_service")


async def test_the_consent_report_counts_leads_per_purpose_basis_notice_and_status(
    anonymous_client: httpx.AsyncClient,
) -> None:
    await a_lead(consents=(EMAIL_MARKETING,))
    await a_lead(consents=(EMAIL_MARKETING,))
    third = await a_lead()
    await ledger_entries(third.id, [ConsentChange(EMAIL_MARKETING, granted=False)])

    body = await graphql(
        anonymous_client,
        "{ consentReport { purpose basis noticeVersion status leads } }",
        token=await _as(Role.COMPLIANCE_OFFICER),
    )

    rows = {(r["purpose"], r["status"]): r for r in body["data"]["consentReport"]}
    assert rows[(EMAIL_MARKETING, "GRANTED")]["leads"] == 2
    assert rows[(EMAIL_MARKETING, "GRANTED")]["basis"] == "CONSENT"
    assert rows[(EMAIL_MARKETING, "WITHDRAWN")]["leads"] == 1
    assert rows[(PROFILING, "GRANTED")]["leads"] == 3
    refused = await graphql(
        anonymous_client, "{ consentReport { leads } }", token=await _as(Role.SALES_REP)
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_marketing_export_holds_only_people_who_consent_right_now() -> None:
    yes = await a_lead(email="yes@example.com", consents=(EMAIL_MARKETING,))
    changed_mind = await a_lead(email="no-longer@example.com", consents=(EMAIL_MARKETING,))
    await a_lead(email="never@example.com")
    await ledger_entries(changed_mind.id, [ConsentChange(EMAIL_MARKETING, granted=False)])
    out = io.StringIO()

    rows = await export_csv(out, Actor.operator(), datetime.now(UTC))

    assert rows == 1
    text = out.getvalue()
    assert "yes@example.com" in text
    assert "no-longer@" not in text
    assert "never@" not in text
    event = await AuditEvent.get(action="marketing.exported")
    assert event.subject_ids == [str(yes.id)]
    assert "yes@" not in str(event.details)


async def test_evidence_moved_to_another_ledger_row_fails_to_open(
    client: httpx.AsyncClient, database: str
) -> None:
    from tortoise import connections

    lead = await a_lead()
    first, second = await ledger_entries(
        lead.id,
        [ConsentChange(EMAIL_MARKETING, granted=True), ConsentChange(PROFILING, granted=False)],
        note="Original note",
    )
    db = connections.get("default")
    mark = "$1" if database == "postgres" else "?"
    row = await db.execute_query_dict(f"SELECT note FROM consent_event WHERE id = {first.id}")
    if database == "postgres":
        await db.execute_script("ALTER TABLE consent_event DISABLE TRIGGER consent_event_no_update")
    else:
        await db.execute_script("DROP TRIGGER consent_event_no_update")
    try:
        await db.execute_query(
            f"UPDATE consent_event SET note = {mark} WHERE id = {second.id}", [row[0]["note"]]
        )
    finally:
        if database == "postgres":
            await db.execute_script(
                "ALTER TABLE consent_event ENABLE TRIGGER consent_event_no_update"
            )
        else:
            await db.execute_script(
                "CREATE TRIGGER consent_event_no_update BEFORE UPDATE ON consent_event "
                "BEGIN SELECT RAISE(ABORT, 'consent events are append-only'); END"
            )

    body = await graphql(
        client,
        "query ($id: ID!) { lead(id: $id) { consentHistory { purpose note } } }",
        {"id": str(lead.id)},
    )

    history = body["data"]["lead"]["consentHistory"]
    notes = {h["purpose"]: h["note"] for h in history if h is not None}
    assert notes.get(EMAIL_MARKETING) == "Original note"
    assert [e["extensions"]["code"] for e in body["errors"]] == ["DATA_INTEGRITY"]
    assert "Original note" not in str(body["errors"])
