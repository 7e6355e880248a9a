"""A compiled page costs the same SQL statements whatever its size: one projected read of
the page, one per relation it selects, one for the data keys, and the audit event."""

from __future__ import annotations

import httpx
import pytest

from identity.roles import Role
from server.app import create_app
from server.db import dialect_of
from server.settings import Settings
from tests.builders import (
    a_campaign,
    a_lead,
    a_staff_user,
    a_stage_change,
    a_team,
    activities_for,
    bearer,
    session_token,
)
from tests.conftest import _test_database_url
from tests.querycount import count_queries
from tests.schema.compiled.conftest import plans_of

PAGE = """query ($first: Int!) { leads(first: $first) {
  edges { cursor node {
    id email firstName companyName stage score
    owner { id displayName } team { name } campaign { name }
    activities(first: 5) { edges { node { type occurredAt details } } pageInfo { hasNextPage } }
    stageHistory { toStage changedAt reason }
    consents { purpose status }
  } }
  pageInfo { endCursor } totalCount
} }"""


@pytest.fixture
async def manager_app(settings: Settings, database: str) -> tuple[object, str]:
    team = await a_team()
    manager = await a_staff_user(Role.SALES_MANAGER, team)
    reps = [await a_staff_user(Role.SALES_REP, team) for _ in range(3)]
    campaign = await a_campaign()
    for i in range(60):
        lead = await a_lead(owner_id=reps[i % 3].id, team_id=team.id, campaign_id=campaign.id)
        await activities_for(lead, 3)
        await a_stage_change(lead, "Qualified on a call")
    return create_app(settings, manage_database=False), await session_token(manager)


async def test_a_compiled_page_costs_the_same_statements_at_any_size(
    manager_app: tuple[object, str],
) -> None:
    app, token = manager_app
    plans = plans_of(app)
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:

        async def statements(first: int) -> list[str]:
            with count_queries() as sent:
                response = await client.post(
                    "/graphql",
                    json={"query": PAGE, "variables": {"first": first}},
                    headers=bearer(token),
                )
            body = response.json()
            assert "errors" not in body
            assert len(body["data"]["leads"]["edges"]) == first
            return sent

        await statements(1)  # the session is looked up once; the first event signs a checkpoint
        answered = plans.answered
        small, large = await statements(5), await statements(60)
        assert plans.answered == answered + 2
    assert small == large
    # the break-glass grant (none) and the rate-limit count; the page and its count; one
    # batch each for owners, teams, campaigns, activities, stage history and consent
    # states; the subjects' data keys; then the read's audit event (take a number, write
    # the event and its subject index, move the head: on PostgreSQL one statement)
    assert large.count("SELECT") == 10
    assert len(large) == (13 if dialect_of(_test_database_url()) == "postgres" else 15)
