"""A page of leads costs the same number of SQL queries whatever its size (no N+1)."""

from __future__ import annotations

import httpx

from identity.roles import Role
from server.db import dialect_of
from tests.builders import a_campaign, a_lead, a_staff_user, a_team, activities_for, graphql
from tests.conftest import _test_database_url
from tests.querycount import count_queries

PAGE_QUERY = """
query ($first: Int!) {
  leads(first: $first) {
    edges { node {
      id email firstName companyName
      owner { id displayName }
      team { name }
      campaign { name }
      activities(first: 5) { edges { node { type occurredAt } } pageInfo { hasNextPage } }
      stageHistory { toStage changedAt reason }
    } }
  }
}
"""


async def _seed_leads(count: int) -> None:
    """Leads of the client's team, owned by reps of another team."""
    team = await a_team()
    reps = [await a_staff_user(Role.SALES_REP, team) for _ in range(3)]
    campaign = await a_campaign()
    for i in range(count):
        lead = await a_lead(owner_id=reps[i % 3].id, campaign_id=campaign.id)
        await activities_for(lead, 3)


async def _statements_for_page(client: httpx.AsyncClient, first: int) -> int:
    with count_queries() as statements:
        body = await graphql(client, PAGE_QUERY, {"first": first})
    assert "errors" not in body
    assert len(body["data"]["leads"]["edges"]) == first
    return len(statements)


async def test_a_page_of_100_leads_costs_the_same_queries_as_a_page_of_10(
    client: httpx.AsyncClient,
) -> None:
    await _seed_leads(100)
    await _statements_for_page(client, 1)  # the audit log's first event also signs a checkpoint

    small = await _statements_for_page(client, 10)
    large = await _statements_for_page(client, 100)

    assert small == large
    # the manager's break-glass grant (none), the rate-limit count, the page, then one
    # batch each: owners, teams, campaigns, activities, stage history, and the subjects'
    # data keys from the key store; then the read's audit event: take a sequence number,
    # write the event and its subject index, move the head (on PostgreSQL the last three
    # are one statement) (the session was looked up by the first request and is reused for
    # a few seconds)
    assert large == (11 if dialect_of(_test_database_url()) == "postgres" else 13)
