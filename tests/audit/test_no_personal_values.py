"""A scripted session across every role, then a scan of every audit column for any personal
value the session used: there must be none."""

from __future__ import annotations

import re

import httpx
from tortoise import connections

from identity.roles import Role
from tests.builders import (
    FULL_LEAD_VALUES,
    STAGE_REASON,
    a_full_lead,
    a_staff_user,
    a_team,
    graphql,
    session_token,
)
from tests.identity.conftest import PASSWORD, Clock, an_enrolled_user

SEEDED_EMAIL = "ada.lovelace@analytical.example"
NEW_EMAIL = "grace.hopper@navy.example"
NEW_NOTE = "Met at the harbour conference"
AUDIT_TABLES = ("audit_event", "audit_subject", "audit_checkpoint", "audit_head")


async def _session(client: httpx.AsyncClient, frozen: Clock) -> None:
    team = await a_team()
    rep = await an_enrolled_user(Role.SALES_REP, team_id=team.id)
    lead = await a_full_lead(rep.user, team, SEEDED_EMAIL)
    manager = await an_enrolled_user(Role.SALES_MANAGER, team_id=(await a_team()).id)

    # sign-in, a wrong password and a wrong code
    await graphql(
        client,
        "mutation ($e: String!, $p: String!) { login(email: $e, password: $p) { __typename } }",
        {"e": rep.user.email, "p": "not the password at all"},
    )
    challenge = await graphql(
        client,
        "mutation ($e: String!, $p: String!) { login(email: $e, password: $p) "
        "{ ... on MfaChallenge { challengeToken } } }",
        {"e": rep.user.email, "p": PASSWORD},
    )
    pending = challenge["data"]["login"]["challengeToken"]
    await graphql(client, 'mutation { verifyMfa(code: "000000") { __typename } }', token=pending)
    signed = await graphql(
        client,
        "mutation ($c: String!) { verifyMfa(code: $c) { ... on SignedIn { token } } }",
        {"c": frozen.code(rep.secret)},
        token=pending,
    )
    rep_token = signed["data"]["verifyMfa"]["token"]

    everything = """query ($id: ID!) { lead(id: $id) { id firstName lastName email phone jobTitle
      notes companyName activities { edges { node { details } } } stageHistory { reason } } }"""
    await graphql(client, everything, {"id": str(lead.id)}, token=rep_token)
    await graphql(client, f'{{ lead(email: "{SEEDED_EMAIL}") {{ id }} }}', token=rep_token)
    await graphql(
        client,
        "mutation ($id: ID!, $n: String!) { updateLead(id: $id, input: {notes: $n}) "
        "{ __typename } }",
        {"id": str(lead.id), "n": NEW_NOTE},
        token=rep_token,
    )
    await graphql(
        client,
        'mutation ($e: String!) { createLead(input: {email: $e, firstName: "Grace", '
        "source: EVENT}) { __typename } }",
        {"e": NEW_EMAIL},
        token=rep_token,
    )
    await graphql(
        client,
        'mutation ($id: ID!) { changeStage(leadId: $id, to: MQL, reason: "Qualified '
        'after call with Ada") { __typename } }',
        {"id": str(lead.id)},
        token=rep_token,
    )
    manager_token = await session_token(manager.user)
    await graphql(
        client,
        'mutation ($c: String!) { requestBreakGlass(code: $c, reason: "Ada Lovelace called '
        'about her record urgently") { __typename } }',
        {"c": frozen.code(manager.secret)},
        token=manager_token,
    )
    await graphql(client, everything, {"id": str(lead.id)}, token=manager_token)
    for role in (Role.MARKETER, Role.ANALYST, Role.COMPLIANCE_OFFICER, Role.ADMIN):
        token = await session_token(await a_staff_user(role))
        await graphql(client, everything, {"id": str(lead.id)}, token=token)
        await graphql(client, "{ leads { edges { node { email phone notes } } } }", token=token)
    auditor = await session_token(await a_staff_user(Role.AUDITOR))
    await graphql(client, "{ auditEvents { edges { node { seq } } } }", token=auditor)
    await graphql(
        client,
        "query ($id: ID!) { accessReport(subjectId: $id) { action } }",
        {"id": str(lead.id)},
        token=auditor,
    )


async def test_no_audit_column_holds_a_personal_value(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    await _session(anonymous_client, frozen)

    personal = [
        SEEDED_EMAIL,
        NEW_EMAIL,
        NEW_NOTE,
        STAGE_REASON,
        "Grace",
        "Ada",
        "Lovelace",
        "127.0.0.1",
        PASSWORD,
        *FULL_LEAD_VALUES.values(),
        "4420794",  # the phone's digits
    ]
    db = connections.get("default")
    dumped = []
    for table in AUDIT_TABLES:
        for row in await db.execute_query_dict(f"SELECT * FROM {table}"):
            dumped.append(" ".join(str(v) for v in row.values()))
    # ids, hashes and signatures are hex, where a short name like "ada" can occur by chance
    text = re.sub(r"[0-9a-f-]{8,}", " ", "\n".join(dumped).lower())
    assert await db.execute_query_dict("SELECT COUNT(*) AS n FROM audit_event")
    actions = {r["action"] for r in await db.execute_query_dict("SELECT action FROM audit_event")}
    assert {"lead.read", "lead.updated", "lead.created", "lead.stage.changed"} <= actions
    assert {
        "auth.login.failed",
        "auth.mfa.failed",
        "auth.mfa.succeeded",
        "access.break_glass.granted",
        "access.break_glass.used",
        "audit.access_report.read",
    } <= actions
    leaked = [value for value in personal if value.lower() in text]
    assert leaked == []
