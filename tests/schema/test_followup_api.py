"""Follow-up over GraphQL: a rep's tasks and breaches, completing tasks, deal values and
speed-to-lead on the lead."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from identity.roles import Role
from leads.enums import Stage
from leads.models import Lead, Task, TaskKind
from tests.builders import a_lead, a_staff_user, a_team, graphql, session_token

TASKS = """query ($b: Boolean) { tasks(filter: {breached: $b}) { __typename
  ... on TaskList { tasks { id kind step breached leadId } } } }"""
COMPLETE = """mutation ($id: ID!) { completeTask(id: $id) { __typename
  ... on TaskPayload { task { completedAt breached } } ... on NotFound { entity }
  ... on ValidationErrors { errors { field code } } } }"""


async def test_a_rep_sees_and_completes_tasks_on_their_own_leads_only(
    anonymous_client: httpx.AsyncClient,
) -> None:
    team = await a_team()
    rep, other = await a_staff_user(Role.SALES_REP, team), await a_staff_user(Role.SALES_REP, team)
    now = datetime.now(UTC)
    mine = await a_lead(owner_id=rep.id)
    theirs = await a_lead(owner_id=other.id)
    overdue = await Task.create(
        lead_id=mine.id, kind=TaskKind.FIRST_CONTACT, due_at=now - timedelta(hours=2),
        created_at=now - timedelta(hours=3), owner_id=rep.id,
    )  # fmt: skip
    upcoming = await Task.create(
        lead_id=mine.id, kind=TaskKind.FOLLOW_UP, step=1, due_at=now + timedelta(days=1),
        created_at=now, owner_id=rep.id,
    )  # fmt: skip
    foreign = await Task.create(
        lead_id=theirs.id, kind=TaskKind.FIRST_CONTACT, due_at=now - timedelta(hours=2),
        created_at=now, owner_id=other.id,
    )  # fmt: skip
    token = await session_token(rep)

    breaches = await graphql(anonymous_client, TASKS, {"b": True}, token=token)
    everything = await graphql(anonymous_client, TASKS, {"b": None}, token=token)
    done = await graphql(anonymous_client, COMPLETE, {"id": str(upcoming.id)}, token=token)
    twice = await graphql(anonymous_client, COMPLETE, {"id": str(upcoming.id)}, token=token)
    foreign_try = await graphql(anonymous_client, COMPLETE, {"id": str(foreign.id)}, token=token)
    analyst = await graphql(
        anonymous_client,
        TASKS,
        {"b": True},
        token=await session_token(await a_staff_user(Role.ANALYST)),
    )

    assert [t["id"] for t in breaches["data"]["tasks"]["tasks"]] == [str(overdue.id)]
    assert breaches["data"]["tasks"]["tasks"][0]["breached"] is True
    assert [t["id"] for t in everything["data"]["tasks"]["tasks"]] == [
        str(overdue.id),
        str(upcoming.id),
    ]
    assert done["data"]["completeTask"]["task"]["breached"] is False
    assert twice["data"]["completeTask"]["errors"] == [{"field": "id", "code": "already_completed"}]
    assert foreign_try["data"]["completeTask"] == {"__typename": "NotFound", "entity": "task"}
    assert (await Task.get(id=foreign.id)).completed_at is None
    assert analyst["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_deal_values_are_validated_and_speed_to_lead_is_shown(
    client: httpx.AsyncClient,
) -> None:
    sql_at = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
    lead = await a_lead(
        stage=Stage.SQL, sql_at=sql_at, first_touch_at=sql_at + timedelta(minutes=45)
    )
    update = """mutation ($id: ID!, $v: Decimal) { updateLead(id: $id, input: {dealValue: $v}) {
      __typename ... on LeadPayload { lead { dealValue speedToLeadMinutes sqlAt } }
      ... on ValidationErrors { errors { field code } } } }"""

    bad = await graphql(client, update, {"id": str(lead.id), "v": "-5"})
    fine = await graphql(client, update, {"id": str(lead.id), "v": "12500.50"})

    assert bad["data"]["updateLead"]["errors"] == [{"field": "dealValue", "code": "out_of_range"}]
    assert fine["data"]["updateLead"]["lead"] == {
        "dealValue": "12500.50",
        "speedToLeadMinutes": 45.0,
        "sqlAt": "2026-05-04T09:00:00+00:00",
    }
    assert str((await Lead.get(id=lead.id)).deal_value) == "12500.50"
