"""Round-robin assignment within a team, capacity-aware, with the reason on the lead."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from audit.events import Actor
from audit.models import AuditEvent
from core.errors import NotFound
from identity.models import StaffUser, Team
from identity.roles import Role
from leads import service
from leads.assignment import assign_lead, assign_round_robin
from leads.enums import Source, Stage
from leads.followup import BecameSql, became_sql
from leads.models import Lead, Task
from tests.builders import a_lead, a_staff_user, a_team, graphql, principal_for, session_token

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
OPERATOR = Actor.operator()


async def reps(team: Team, count: int) -> list[StaffUser]:
    made = [await a_staff_user(Role.SALES_REP, team) for _ in range(count)]
    return sorted(made, key=lambda rep: rep.id)


async def owners(leads: list[Lead]) -> list[object]:
    return [(await Lead.get(id=lead.id)).owner_id for lead in leads]


async def test_leads_go_to_the_team_s_reps_in_turn_across_calls() -> None:
    team = await a_team()
    a, b, c = await reps(team, 3)
    leads = [await a_lead() for _ in range(5)]

    await assign_round_robin([leads[0].id, leads[1].id], team.id, OPERATOR, NOW)
    await assign_round_robin([lead.id for lead in leads[2:]], team.id, OPERATOR, NOW)

    assert await owners(leads) == [a.id, b.id, c.id, a.id, b.id]
    first = await Lead.get(id=leads[0].id)
    assert (first.team_id, first.assigned_at) == (team.id, NOW)
    assert first.assignment_reason == (
        f"round robin in team {team.id}: next rep with capacity (1 open, no limit)"
    )
    assert (await Team.get(id=team.id)).last_assigned_id == b.id


async def test_a_rep_at_capacity_or_inactive_is_skipped() -> None:
    team = await a_team()
    a, b, c = await reps(team, 3)
    await StaffUser.filter(id=a.id).update(max_open_leads=1)
    await StaffUser.filter(id=c.id).update(is_active=False)
    await a_lead(owner_id=a.id)  # a is full
    await a_lead(owner_id=a.id, stage=Stage.CUSTOMER)  # closed leads do not count
    leads = [await a_lead() for _ in range(2)]

    await assign_round_robin([lead.id for lead in leads], team.id, OPERATOR, NOW)

    assert await owners(leads) == [b.id, b.id]


async def test_when_everyone_is_full_the_lead_stays_unassigned_and_says_why() -> None:
    team = await a_team()
    (only,) = await reps(team, 1)
    await StaffUser.filter(id=only.id).update(max_open_leads=1)
    first, second = await a_lead(), await a_lead()

    done = await assign_round_robin([first.id, second.id], team.id, OPERATOR, NOW)

    assert [d.owner_id for d in done] == [only.id, None]
    row = await Lead.get(id=second.id)
    assert row.owner_id is None
    assert row.assignment_reason == f"unassigned: all 1 reps of team {team.id} are at capacity"
    event = await AuditEvent.get(action="lead.assigned")
    assert event.details["leads"] == 1


async def test_open_tasks_follow_the_lead_to_its_new_owner() -> None:
    team = await a_team()
    (rep,) = await reps(team, 1)
    lead = await a_lead(stage=Stage.SQL)
    await became_sql([BecameSql(lead.id, "web_form", None)], NOW)

    await assign_round_robin([lead.id], team.id, OPERATOR, NOW)

    assert (await Task.get(lead_id=lead.id)).owner_id == rep.id


async def test_a_manager_s_new_lead_without_owner_goes_round_robin_in_their_team() -> None:
    team = await a_team()
    (rep,) = await reps(team, 1)
    manager = await a_staff_user(Role.SALES_MANAGER, team)

    lead = await service.create_lead(
        principal_for(manager), {"email": "rr@example.com", "source": Source.API}
    )
    given = await service.create_lead(
        principal_for(manager),
        {"email": "given@example.com", "source": Source.API, "owner_id": manager.id},
    )

    assert (lead.owner_id, lead.team_id) == (rep.id, team.id)
    assert lead.assignment_reason is not None
    assert lead.assignment_reason.startswith("round robin")
    assert given.assignment_reason == "set when created"


async def test_reassigning_by_hand_records_it() -> None:
    team = await a_team()
    a, b = await reps(team, 2)
    manager = await a_staff_user(Role.SALES_MANAGER, team)
    lead = await a_lead(team_id=team.id, owner_id=a.id)

    updated = await service.update_lead(principal_for(manager), lead.id, {"owner_id": b.id})

    assert (updated.owner_id, updated.assignment_reason) == (b.id, "reassigned by staff")


async def test_a_manager_cannot_assign_another_team_s_lead() -> None:
    team, other = await a_team(), await a_team()
    await reps(team, 1)
    manager = await a_staff_user(Role.SALES_MANAGER, team)
    lead = await a_lead(team_id=other.id)
    with pytest.raises(NotFound):
        await assign_lead(principal_for(manager), lead.id, NOW)
    assert (await Lead.get(id=lead.id)).owner_id is None


async def test_assign_lead_over_graphql_for_managers_only(
    anonymous_client: httpx.AsyncClient,
) -> None:
    team = await a_team()
    (rep,) = await reps(team, 1)
    manager = await a_staff_user(Role.SALES_MANAGER, team)
    lead = await a_lead(team_id=team.id)
    query = """mutation ($id: ID!) { assignLead(leadId: $id) { __typename
      ... on LeadPayload { lead { ownerId assignmentReason } } } }"""

    done = await graphql(
        anonymous_client, query, {"id": str(lead.id)}, token=await session_token(manager)
    )
    refused = await graphql(
        anonymous_client, query, {"id": str(lead.id)}, token=await session_token(rep)
    )

    assert done["data"]["assignLead"]["lead"]["ownerId"] == str(rep.id)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
