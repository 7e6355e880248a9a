"""The funnel report over GraphQL: who may ask, suppression for analysts, filter errors."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from identity.roles import Role
from leads.enums import Stage
from leads.funnel.periods import quarter_of, shift
from tests.builders import a_lead, a_staff_user, graphql, session_token

FUNNEL = """query ($f: FunnelFilter) { funnel(filter: $f) { __typename
  ... on FunnelReport { totalLeads suppressionThreshold createdFrom createdTo
    stages { stage leads }
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
    last_quarter = shift(quarter_of(datetime.now(UTC)), -1)
    created = last_quarter.replace(day=2, hour=10)
    for _ in range(6):
        await a_lead(created_at=created)
    await a_lead(created_at=created, stage=Stage.MQL)

    marketer = await graphql(anonymous_client, FUNNEL, token=await _as(Role.MARKETER))
    analyst = await graphql(anonymous_client, FUNNEL, token=await _as(Role.ANALYST))

    full, withheld = marketer["data"]["funnel"], analyst["data"]["funnel"]
    assert (full["totalLeads"], full["suppressionThreshold"]) == (7, None)
    assert {s["stage"]: s["leads"] for s in full["stages"]}["MQL"] == 1
    assert (withheld["totalLeads"], withheld["suppressionThreshold"]) == (7, 5)
    assert (full["createdFrom"], full["createdTo"]) == (None, None)
    assert (withheld["createdFrom"], withheld["createdTo"]) == (
        last_quarter.isoformat(),
        shift(last_quarter, 1).isoformat(),
    )
    assert {s["stage"]: s["leads"] for s in withheld["stages"]}["MQL"] is None
    assert withheld["conversions"][0]["converted"] is None
    assert withheld["byCohort"] == [{"key": created.strftime("%Y-%m"), "leads": 7}]


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


async def test_an_analyst_may_ask_for_whole_finished_quarters_only(
    anonymous_client: httpx.AsyncClient,
) -> None:
    token = await _as(Role.ANALYST)
    current = quarter_of(datetime.now(UTC))
    last = shift(current, -1)
    refused = {
        "a day into the quarter": (
            {"createdFrom": (last.replace(day=2)).isoformat()},
            [{"field": "createdFrom", "code": "not_a_quarter"}],
        ),
        "two quarters": (
            {"createdFrom": shift(last, -1).isoformat(), "createdTo": current.isoformat()},
            [{"field": "createdTo", "code": "not_a_quarter"}],
        ),
        "the quarter under way": (
            {"createdFrom": current.isoformat()},
            [{"field": "createdFrom", "code": "unfinished"}],
        ),
        "one owner and one team": (
            {"ownerId": "00000000-0000-4000-8000-000000000001", "teamId": "1"},
            [
                {"field": "ownerId", "code": "not_allowed"},
                {"field": "teamId", "code": "not_allowed"},
            ],
        ),
    }
    for name, (chosen, errors) in refused.items():
        body = await graphql(anonymous_client, FUNNEL, {"f": chosen}, token=token)
        assert body["data"]["funnel"]["errors"] == errors, name
    earlier = await graphql(
        anonymous_client, FUNNEL, {"f": {"createdFrom": shift(last, -2).isoformat()}}, token=token
    )
    assert earlier["data"]["funnel"]["createdTo"] == shift(last, -1).isoformat()
    marketer = await graphql(
        anonymous_client,
        FUNNEL,
        {"f": {"createdFrom": (last.replace(day=2)).isoformat()}},
        token=await _as(Role.MARKETER),
    )
    assert marketer["data"]["funnel"]["__typename"] == "FunnelReport"
