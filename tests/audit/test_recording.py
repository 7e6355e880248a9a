"""What the audit trail records for requests, and that it fails closed."""

from __future__ import annotations

import httpx
import pytest

from audit.models import AuditEvent
from identity.roles import Role
from leads.models import Lead
from tests.builders import a_full_lead, a_staff_user, a_team, graphql, session_token


async def test_a_read_is_one_event_naming_subjects_and_fields_by_kind(
    anonymous_client: httpx.AsyncClient,
) -> None:
    marketer = await a_staff_user(Role.MARKETER)
    leads = [await a_full_lead(None, None, f"p{n}@example.com") for n in range(2)]

    await graphql(
        anonymous_client,
        "{ leads { edges { node { id email phone companyName stage } } } }",
        token=await session_token(marketer),
    )

    [event] = await AuditEvent.filter(action="lead.read")
    assert sorted(event.subject_ids) == sorted(str(lead.id) for lead in leads)
    assert event.fields_touched == ["companyName", "id"]
    assert event.fields_masked == ["email"]
    assert event.fields_denied == ["phone"]
    assert event.actor_id == str(marketer.id)
    assert event.actor_role == "marketer"
    assert event.request_id
    assert event.client is not None
    assert "127.0.0.1" not in event.client


async def test_a_change_is_recorded_with_field_names_in_its_transaction(
    client: httpx.AsyncClient,
) -> None:
    lead = await a_full_lead(None, None, "ada@example.com")

    await graphql(
        client,
        'mutation ($id: ID!) { updateLead(id: $id, input: {notes: "Call after 3", '
        'jobTitle: "Head of Engines"}) { __typename } }',
        {"id": str(lead.id)},
    )

    [event] = await AuditEvent.filter(action="lead.updated")
    assert event.target_id == str(lead.id)
    assert event.subject_ids == [str(lead.id)]
    assert event.fields_touched == ["notes"]  # the job title did not change
    assert "Call after 3" not in str(event.details)


async def test_a_change_whose_event_cannot_be_written_is_not_made(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    lead = await a_full_lead(None, None, "ada@example.com")

    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("audit storage unavailable")

    monkeypatch.setattr("leads.service.record", broken)
    response = await client.post(
        "/graphql",
        json={
            "query": "mutation ($id: ID!) { changeStage(leadId: $id, to: MQL) { __typename } }",
            "variables": {"id": str(lead.id)},
        },
    )

    assert response.json()["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert (await Lead.get(id=lead.id)).stage.value == "lead"


async def test_a_read_whose_event_cannot_be_written_reveals_nothing(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await a_full_lead(None, None, "ada@example.com")

    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("audit storage unavailable")

    monkeypatch.setattr("schema.access.report.record", broken)
    body = await graphql(client, "{ leads { edges { node { email firstName } } } }")

    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["AUDIT_UNAVAILABLE"]
    assert "ada@example.com" not in str(body)
    assert "Ada" not in str(body)


async def test_a_refused_operation_is_recorded(anonymous_client: httpx.AsyncClient) -> None:
    analyst = await a_staff_user(Role.ANALYST)

    await graphql(
        anonymous_client,
        'mutation { createLead(input: {email: "x@example.com", source: API}) { __typename } }',
        token=await session_token(analyst),
    )

    [event] = await AuditEvent.filter(action="access.operation.denied")
    assert event.outcome == "denied"
    assert event.fields_touched == []  # nothing was revealed or changed
    assert event.fields_denied == ["createLead"]
    assert event.actor_role == "analyst"


async def test_reads_that_touch_no_lead_record_nothing(client: httpx.AsyncClient) -> None:
    await graphql(client, "{ campaigns { id } }")

    assert await AuditEvent.filter(action="lead.read").count() == 0


async def test_a_team_read_names_only_the_rows_returned(
    anonymous_client: httpx.AsyncClient,
) -> None:
    home, away = await a_team(), await a_team()
    manager = await a_staff_user(Role.SALES_MANAGER, home)
    mine = await a_full_lead(None, home, "home@example.com")
    await a_full_lead(None, away, "away@example.com")

    await graphql(
        anonymous_client,
        "{ leads { edges { node { email } } } }",
        token=await session_token(manager),
    )

    [event] = await AuditEvent.filter(action="lead.read")
    assert event.subject_ids == [str(mine.id)]
