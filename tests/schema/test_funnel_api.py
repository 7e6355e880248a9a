"""The funnel report over GraphQL: who may ask, suppression for analysts, filter errors."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from identity.roles import Role
from leads.enums import Stage
from tests.builders import a_lead, a_staff_user, graphql, session_token

FUNNEL = """query ($f: FunnelFilter) { funnel(filter: $f) { __typename
  ... on FunnelReport { totalLeads suppressionThreshold stages { stage leads }
    conversions { fromStage toStage reached converted rate }
    pipeline { winRate wonPerCustomer } sla { due complianceRate }
    timeInStage { metric count mean median } speedToLead { count }
    byCohort { key leads } }
  ... on ValidationErrors { errors { field code } } } }"""


async def _as(role: Role) -> str:
    return await session_token(await a_staff_user(role))


async def test_marketers_see_every_cell_and_analysts_only_cells_of_five_or_more(
    anonymous_client: httpx.AsyncClient,
) -> None:
    created = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    for _ in range(6):
        await a_lead(created_at=created)
    await a_lead(created_at=created, stage=Stage.MQL)

    marketer = await graphql(anonymous_client, FUNNEL, token=await _as(Role.MARKETER))
    analyst = await graphql(anonymous_client, FUNNEL, token=await _as(Role.ANALYST))

    full, withheld = marketer["data"]["funnel"], analyst["data"]["funnel"]
    assert (full["totalLeads"], full["suppressionThreshold"]) == (7, None)
    assert {s["stage"]: s["leads"] for s in full["stages"]}["MQL"] == 1
    assert (withheld["totalLeads"], withheld["suppressionThreshold"]) == (7, 5)
    assert {s["stage"]: s["leads"] for s in withheld["stages"]}["MQL"] is None
    assert withheld["conversions"][0]["converted"] is None
    assert withheld["byCohort"] == [{"key": "2026-03", "leads": 7}]


async def test_who_may_ask_and_bad_filters(anonymous_client: httpx.AsyncClient) -> None:
    for role in (Role.AUDITOR, Role.ADMIN, Role.COMPLIANCE_OFFICER):
        body = await graphql(anonymous_client, FUNNEL, token=await _as(role))
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", role
    rep = await _as(Role.SALES_REP)
    empty = await graphql(anonymous_client, FUNNEL, token=rep)
    backwards = await graphql(
        anonymous_client,
        FUNNEL,
        {"f": {"createdFrom": "2026-05-01T00:00:00Z", "createdTo": "2026-04-01T00:00:00Z"}},
        token=rep,
    )
    assert empty["data"]["funnel"]["totalLeads"] == 0
    assert empty["data"]["funnel"]["pipeline"] == {"winRate": None, "wonPerCustomer": None}
    assert backwards["data"]["funnel"]["errors"] == [{"field": "createdTo", "code": "before_start"}]
