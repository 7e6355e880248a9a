"""Scoring over GraphQL: explanations and history on leads, model versions, drafts, dry runs
and publishing, and who may do which."""

from __future__ import annotations

from typing import Any

import httpx

from identity.principal import Principal
from identity.roles import Role
from leads import service
from leads.enums import ActivityType, Seniority
from leads.scoring import runs
from leads.scoring import service as scoring
from leads.scoring.definition import DEFAULT_DEFINITION
from tests.builders import a_lead, a_staff_user, graphql, session_token
from tests.querycount import count_queries

LEAD = """query ($id: ID!) { lead(id: $id) { score scoreStatus
  scoreBreakdown { rule section points matches }
  scoreHistory { modelVersion score fitScore engagementScore trigger
    breakdown { rule points } } } }"""
CREATE = """mutation ($d: JSON!, $n: String) { createScoringDraft(definition: $d, note: $n) {
  __typename ... on ScoringModelPayload { model { version status sqlThreshold note } }
  ... on ValidationErrors { errors { field code } } } }"""
PUBLISH = """mutation ($v: Int!) { publishScoringModel(version: $v) { __typename
  ... on PublishScoringModelPayload { model { version status publishedById }
    run { id status total processed progress modelVersion } }
  ... on ValidationErrors { errors { field code } } ... on NotFound { entity } } }"""
DRY_RUN = """query ($v: Int!) { scoringDryRun(version: $v) { __typename
  ... on ScoringDryRun { version againstVersion evaluated notScored gainMql gainSql loseMql
    loseSql changed } ... on NotFound { entity } } }"""
RUN = """query ($id: ID!) { scoringRun(id: $id) { __typename
  ... on ScoringRunInfo { status processed total changed advanced progress } } }"""


async def _as(role: Role) -> str:
    return await session_token(await a_staff_user(role))


async def test_a_lead_shows_why_it_scored_and_how_the_score_moved(
    client: httpx.AsyncClient,
) -> None:
    lead = await a_lead(seniority=Seniority.DIRECTOR, country="DE")
    for kind in (ActivityType.PRICING_PAGE_VIEW, ActivityType.UNSUBSCRIBE):
        await service.record_activity(
            Principal(role=Role.MARKETER), service.ActivityInput(lead_id=lead.id, type=kind)
        )

    body = await graphql(client, LEAD, {"id": str(lead.id)})

    shown = body["data"]["lead"]
    assert shown["score"] == 35
    assert shown["scoreBreakdown"] == [
        {"rule": "decision_maker_title", "section": "fit", "points": 30, "matches": 1},
        {"rule": "pricing_or_feature_page", "section": "engagement", "points": 25, "matches": 1},
        {"rule": "unsubscribed", "section": "negative", "points": -20, "matches": 1},
    ]
    assert sum(c["points"] for c in shown["scoreBreakdown"]) == shown["score"]
    assert [(h["score"], h["trigger"]) for h in shown["scoreHistory"]] == [
        (35, "activity"),
        (55, "activity"),
    ]


async def test_no_explanation_is_shown_without_a_profiling_basis(
    client: httpx.AsyncClient,
) -> None:
    lead = await a_lead(bases=False, seniority=Seniority.VP)
    body = await graphql(client, LEAD, {"id": str(lead.id)})
    assert body["data"]["lead"] == {
        "score": None,
        "scoreStatus": "NOT_SCORED_NO_BASIS",
        "scoreBreakdown": None,
        "scoreHistory": None,
    }


async def test_score_history_of_a_page_of_leads_costs_a_fixed_number_of_queries(
    client: httpx.AsyncClient,
) -> None:
    query = "{ leads(first: 50) { edges { node { scoreHistory { score } } } } }"

    async def queries_for(leads: int) -> int:
        for _ in range(leads):
            lead = await a_lead(seniority=Seniority.VP)
            await scoring.rescore_lead(lead.id, scoring.Trigger.LEAD_CHANGED, lead.created_at)
        with count_queries() as counted:
            body = await graphql(client, query)
        assert "errors" not in body
        return len(counted)

    await graphql(client, query)  # the session is looked up once, then reused for a while
    assert await queries_for(2) == await queries_for(8)


async def test_a_marketer_drafts_dry_runs_and_publishes_a_model(
    anonymous_client: httpx.AsyncClient,
) -> None:
    await a_lead(seniority=Seniority.VP)
    await a_lead(bases=False)
    token = await _as(Role.MARKETER)
    definition: dict[str, Any] = {**DEFAULT_DEFINITION, "mql_threshold": 20, "sql_threshold": 30}

    created = await graphql(anonymous_client, CREATE, {"d": definition, "n": "lower"}, token=token)
    dry = await graphql(anonymous_client, DRY_RUN, {"v": 2}, token=token)
    published = await graphql(anonymous_client, PUBLISH, {"v": 2}, token=token)
    run_id = published["data"]["publishScoringModel"]["run"]["id"]
    await runs.run_pending()
    finished = await graphql(anonymous_client, RUN, {"id": run_id}, token=token)
    versions = await graphql(anonymous_client, "{ scoringModels { version status } }", token=token)

    assert created["data"]["createScoringDraft"] == {
        "__typename": "ScoringModelPayload",
        "model": {"version": 2, "status": "DRAFT", "sqlThreshold": 30, "note": "lower"},
    }
    assert dry["data"]["scoringDryRun"] == {
        "__typename": "ScoringDryRun",
        "version": 2,
        "againstVersion": 1,
        "evaluated": 2,
        "notScored": 1,
        "gainMql": 1,
        "gainSql": 1,
        "loseMql": 0,
        "loseSql": 0,
        "changed": 0,
    }
    payload = published["data"]["publishScoringModel"]
    assert payload["model"]["status"] == "PUBLISHED"
    assert payload["model"]["publishedById"] is not None
    assert (payload["run"]["status"], payload["run"]["total"], payload["run"]["progress"]) == (
        "PENDING",
        2,
        0.0,
    )
    assert finished["data"]["scoringRun"] == {
        "__typename": "ScoringRunInfo",
        "status": "DONE",
        "processed": 2,
        "total": 2,
        "changed": 1,
        "advanced": 1,
        "progress": 1.0,
    }
    assert versions["data"]["scoringModels"] == [
        {"version": 2, "status": "PUBLISHED"},
        {"version": 1, "status": "RETIRED"},
    ]


async def test_an_invalid_draft_is_refused_naming_the_field(
    anonymous_client: httpx.AsyncClient,
) -> None:
    token = await _as(Role.SALES_MANAGER)
    bad = {**DEFAULT_DEFINITION, "engagement": [{"name": "x", "activities": ["teleport"]}]}
    body = await graphql(anonymous_client, CREATE, {"d": bad}, token=token)
    again = await graphql(anonymous_client, PUBLISH, {"v": 1}, token=token)
    assert body["data"]["createScoringDraft"] == {
        "__typename": "ValidationErrors",
        "errors": [{"field": "definition.engagement[0].activities", "code": "invalid"}],
    }
    assert again["data"]["publishScoringModel"]["errors"][0]["code"] == "not_a_draft"


async def test_only_managers_marketers_and_admins_change_scoring(
    anonymous_client: httpx.AsyncClient,
) -> None:
    for role in (Role.SALES_REP, Role.ANALYST, Role.AUDITOR, Role.COMPLIANCE_OFFICER):
        token = await _as(role)
        for query, variables in (
            (CREATE, {"d": DEFAULT_DEFINITION}),
            (PUBLISH, {"v": 1}),
            (DRY_RUN, {"v": 1}),
        ):
            body = await graphql(anonymous_client, query, variables, token=token)
            assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", role
    unsigned = await graphql(anonymous_client, "{ scoringModels { version } }")
    assert unsigned["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    rep = await graphql(
        anonymous_client, "{ scoringModels { version } }", token=await _as(Role.SALES_REP)
    )
    assert rep["data"]["scoringModels"] == [{"version": 1}]
