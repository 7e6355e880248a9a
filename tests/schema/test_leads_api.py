from __future__ import annotations

from datetime import timedelta

import httpx

from leads.enums import Source, Stage
from tests.builders import BASE_TIME, a_campaign, a_lead, activities_for, graphql, new_id

LIST = """
query ($first: Int!, $after: String, $filter: LeadFilter, $orderBy: LeadOrder) {
  leads(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id score stage } }
  }
}
"""


async def _all_pages(client: httpx.AsyncClient, **variables: object) -> list[str]:
    ids: list[str] = []
    after = None
    for _ in range(20):
        body = await graphql(client, LIST, {"first": 3, "after": after, **variables})
        connection = body["data"]["leads"]
        ids += [edge["node"]["id"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            return ids
        after = connection["pageInfo"]["endCursor"]
    raise AssertionError("pagination did not end")


async def test_cursor_pages_walk_every_lead_once_newest_first(client: httpx.AsyncClient) -> None:
    leads = [await a_lead(created_at=BASE_TIME + timedelta(hours=i)) for i in range(8)]

    ids = await _all_pages(client)

    assert ids == [str(lead.id) for lead in reversed(leads)]


async def test_ordering_by_score_pages_through_ties_without_repeats(
    client: httpx.AsyncClient,
) -> None:
    for score in (5, 50, 50, 50, 20, 50, 0):
        await a_lead(score=score)

    ids = await _all_pages(client, orderBy={"field": "SCORE", "direction": "DESC"})
    body = await graphql(client, LIST, {"first": 10, "orderBy": {"field": "SCORE"}})

    assert len(ids) == len(set(ids)) == 7
    scores = [edge["node"]["score"] for edge in body["data"]["leads"]["edges"]]
    assert scores == sorted(scores, reverse=True)


async def test_filters_combine_and_total_count_follows_them(client: httpx.AsyncClient) -> None:
    campaign = await a_campaign()
    await a_lead(stage=Stage.SQL, source=Source.EVENT, campaign_id=campaign.id)
    await a_lead(stage=Stage.SQL, source=Source.WEB_FORM, campaign_id=campaign.id)
    await a_lead(stage=Stage.MQL, source=Source.EVENT)
    await a_lead(stage=Stage.SQL, source=Source.EVENT, created_at=BASE_TIME - timedelta(days=9))

    body = await graphql(
        client,
        LIST,
        {
            "first": 10,
            "filter": {
                "stage": ["SQL"],
                "source": ["EVENT", "WEB_FORM"],
                "campaignId": str(campaign.id),
                "createdFrom": (BASE_TIME - timedelta(days=1)).isoformat(),
            },
        },
    )

    assert body["data"]["leads"]["totalCount"] == 2
    assert {e["node"]["stage"] for e in body["data"]["leads"]["edges"]} == {"SQL"}


async def test_a_cursor_from_another_ordering_is_rejected(client: httpx.AsyncClient) -> None:
    await a_lead()
    await a_lead()
    first = await graphql(client, LIST, {"first": 1})
    cursor = first["data"]["leads"]["pageInfo"]["endCursor"]

    body = await graphql(client, LIST, {"first": 1, "after": cursor, "orderBy": {"field": "SCORE"}})

    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "after"}


async def test_a_garbled_cursor_is_rejected(client: httpx.AsyncClient) -> None:
    body = await graphql(client, LIST, {"first": 1, "after": "not-a-cursor"})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_page_size_is_capped(client: httpx.AsyncClient) -> None:
    body = await graphql(client, LIST, {"first": 101})
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "first"}
    assert body["data"] == {"leads": None}


async def test_a_missing_lead_is_null(client: httpx.AsyncClient) -> None:
    body = await graphql(client, "query ($id: ID!) { lead(id: $id) { id } }", {"id": new_id()})
    assert body["data"] == {"lead": None}
    assert "errors" not in body


async def test_nested_activities_page_newest_first(client: httpx.AsyncClient) -> None:
    lead = await a_lead()
    activities = await activities_for(lead, 5)
    query = """query ($id: ID!, $after: String) { lead(id: $id) {
        activities(first: 2, after: $after) {
          edges { node { id } } pageInfo { hasNextPage endCursor } } } }"""

    seen: list[str] = []
    after = None
    for _ in range(len(activities)):
        page = await graphql(client, query, {"id": str(lead.id), "after": after})
        connection = page["data"]["lead"]["activities"]
        seen += [edge["node"]["id"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]

    assert seen == [str(a.id) for a in activities]
