"""The auditor API, the audit commands' domain functions, and retention of the log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from tortoise import connections

from audit import chain, export
from audit.events import Actor, ActorType, Event, Outcome, Target, record
from audit.models import AuditCheckpoint, AuditEvent
from audit.retention import RetentionRefused, prune
from audit.verify import verify
from compliance.access.policy import DSR
from identity.roles import Role
from tests.builders import PurposeForTests, a_full_lead, a_staff_user, graphql, session_token

EVENTS = """query ($filter: AuditEventFilter, $after: String) {
  auditEvents(first: 2, filter: $filter, after: $after) {
    edges { node { seq action actorRole subjectIds fieldsRevealed fieldsMasked } }
    pageInfo { hasNextPage endCursor }
  }
}"""
REPORT = """query ($id: ID!) { accessReport(subjectId: $id) {
  action actorRole fieldsRevealed fieldsMasked fieldsDenied purpose breakGlass } }"""


async def test_auditors_page_and_filter_the_log(anonymous_client: httpx.AsyncClient) -> None:
    lead = await a_full_lead(None, None, "ada@example.com")
    for role in (Role.MARKETER, Role.ANALYST, Role.MARKETER):
        reader = await a_staff_user(role)
        await graphql(
            anonymous_client,
            "{ leads { edges { node { id email } } } }",
            token=await session_token(reader),
        )
    auditor = await session_token(await a_staff_user(Role.AUDITOR))

    first = await graphql(
        anonymous_client,
        EVENTS,
        {"filter": {"action": "lead.read", "subjectId": str(lead.id)}},
        token=auditor,
    )
    page = first["data"]["auditEvents"]
    second = await graphql(
        anonymous_client,
        EVENTS,
        {"filter": {"action": "lead.read"}, "after": page["pageInfo"]["endCursor"]},
        token=auditor,
    )
    by_role = await graphql(
        anonymous_client, EVENTS, {"filter": {"role": "analyst", "action": "lead.*"}}, token=auditor
    )

    nodes = [e["node"] for e in page["edges"]] + [
        e["node"] for e in second["data"]["auditEvents"]["edges"]
    ]
    assert [n["actorRole"] for n in nodes] == ["marketer", "analyst", "marketer"]
    assert nodes[0]["seq"] > nodes[1]["seq"] > nodes[2]["seq"]
    assert all(n["subjectIds"] == [str(lead.id)] for n in nodes)
    assert nodes[0]["fieldsMasked"] == ["email"]
    assert [e["node"]["actorRole"] for e in by_role["data"]["auditEvents"]["edges"]] == ["analyst"]


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.ADMIN, Role.COMPLIANCE_OFFICER])
async def test_only_auditors_read_the_log(anonymous_client: httpx.AsyncClient, role: Role) -> None:
    body = await graphql(
        anonymous_client, EVENTS, token=await session_token(await a_staff_user(role))
    )

    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_the_readme_and_the_policy_agree_that_only_auditors_read_the_log() -> None:
    from pathlib import Path

    import server  # the project's own tree (a mutation run copies only some packages)
    from compliance.access.policy import OPERATION_ROLES

    readme = (Path(server.__file__).parents[1] / "docs" / "roles.md").read_text(encoding="utf-8")

    assert OPERATION_ROLES["auditEvents"] == frozenset({Role.AUDITOR})
    assert "`auditEvents` (auditor only)" in readme
    assert "not the audit log's contents" in readme


async def test_verification_reports_a_broken_chain(anonymous_client: httpx.AsyncClient) -> None:
    await a_full_lead(None, None, "ada@example.com")
    reader = await session_token(await a_staff_user(Role.MARKETER))
    for _ in range(3):
        await graphql(anonymous_client, "{ leads { edges { node { id } } } }", token=reader)
    admin = await session_token(await a_staff_user(Role.ADMIN))
    query = "{ auditVerification { ok eventsChecked problemSeq problem } }"
    healthy = await graphql(anonymous_client, query, token=admin)
    await connections.get("default").execute_query(
        "UPDATE audit_event SET actor_role = 'auditor' WHERE seq = 2"
    )

    broken = await graphql(anonymous_client, query, token=admin)

    assert healthy["data"]["auditVerification"]["ok"] is True
    result = broken["data"]["auditVerification"]
    assert result["ok"] is False
    assert result["problemSeq"] == 2


async def test_an_access_report_lists_who_saw_what_and_is_itself_recorded(
    anonymous_client: httpx.AsyncClient, dsr_purposes: PurposeForTests
) -> None:
    lead = await a_full_lead(None, None, "ada@example.com")
    marketer = await a_staff_user(Role.MARKETER)
    await graphql(
        anonymous_client,
        "query ($id: ID!) { lead(id: $id) { email phone } }",
        {"id": str(lead.id)},
        token=await session_token(marketer),
    )
    officer = await a_staff_user(Role.COMPLIANCE_OFFICER)
    dsr_purposes.grants[(officer.id, "req-1")] = frozenset({lead.id})
    officer_token = await session_token(officer)

    auditor_view = await graphql(
        anonymous_client,
        REPORT,
        {"id": str(lead.id)},
        token=await session_token(await a_staff_user(Role.AUDITOR)),
    )
    undeclared = await graphql(anonymous_client, REPORT, {"id": str(lead.id)}, token=officer_token)
    declared = await anonymous_client.post(
        "/graphql",
        json={"query": REPORT, "variables": {"id": str(lead.id)}},
        headers={
            "Authorization": f"Bearer {officer_token}",
            "X-LeadVault-Purpose": f"{DSR}:req-1",
        },
    )

    entries = auditor_view["data"]["accessReport"]
    assert {
        "action": "lead.read",
        "actorRole": "marketer",
        "fieldsRevealed": [],
        "fieldsMasked": ["email"],
        "fieldsDenied": ["phone"],
        "purpose": None,
        "breakGlass": False,
    } in entries
    assert undeclared["data"]["accessReport"] == []
    assert len(declared.json()["data"]["accessReport"]) >= len(entries)
    assert await AuditEvent.filter(action="audit.access_report.read").count() == 2


async def _old_events(count: int, start: datetime) -> None:
    for n in range(count):
        await record(
            Event(
                "lead.read",
                Outcome.SUCCESS,
                Actor(ActorType.OPERATOR),
                target=Target("lead", f"l{n}"),
            ),
            now=start + timedelta(days=n),
        )


async def test_retention_removes_old_events_and_the_rest_still_verifies() -> None:
    start = datetime(2019, 1, 1, tzinfo=UTC)
    chain.configure(checkpoint_every=1000, checkpoint_minutes=7 * 24 * 60)
    try:
        await _old_events(10, start)  # signed once, at the first event
    finally:
        chain.configure(checkpoint_every=1000, checkpoint_minutes=60)
    now = start + timedelta(days=30)

    planned = await prune(start + timedelta(days=6), Actor.operator(), now, dry_run=True)
    done = await prune(start + timedelta(days=6), Actor.operator(), now)
    again = await prune(start + timedelta(days=6), Actor.operator(), now)

    assert planned.events == 6
    assert done.events == 6
    assert done.cut_seq == 6
    assert again.events == 0
    assert await AuditCheckpoint.filter(seq=6, reason="retention").exists()
    assert await AuditEvent.filter(seq__lte=6).count() == 0
    result = await verify()
    assert result.ok, result.problem
    assert result.first_seq == 7


async def test_retention_refuses_to_launder_a_tampered_log() -> None:
    start = datetime(2019, 1, 1, tzinfo=UTC)
    await _old_events(5, start)
    await connections.get("default").execute_query(
        "UPDATE audit_event SET action = 'lead.updated' WHERE seq = 2"
    )

    with pytest.raises(RetentionRefused):
        await prune(start + timedelta(days=4), Actor.operator(), start + timedelta(days=30))

    assert await AuditEvent.all().count() == 5


async def test_export_streams_every_event_with_its_hash() -> None:
    await _old_events(3, datetime(2026, 1, 1, tzinfo=UTC))

    rows = [row async for row in export.rows(None)]
    lines = [export.jsonl(r) for r in rows]
    csv_text = export.csv_header() + "".join(export.csv_line(r) for r in rows)

    assert [r["seq"] for r in rows] == [1, 2, 3]
    assert all('"hash":' in line for line in lines)
    assert csv_text.count("\r\n") == 4
    checkpoints = await export.checkpoints()
    assert checkpoints[0]["public_key"]
