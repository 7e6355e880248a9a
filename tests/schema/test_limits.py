"""Each query limit at and just over its value, and the per-principal request budget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from identity import clock
from identity.authenticate import AuthStage, RequestAuth
from identity.principal import Principal
from identity.roles import Role
from schema import MAX_ALIASES, MAX_DEPTH, MAX_DIRECTIVES, MAX_TOKENS, build_schema
from schema.context import Context
from server.app import create_app
from server.settings import Environment
from tests.builders import a_staff_user, bearer, session_token
from tests.conftest import make_settings

SCHEMA = build_schema(production=True)


async def _run(query: str, **settings: Any) -> Any:
    principal = Principal(role=Role.MARKETER)
    auth = RequestAuth(AuthStage.STAFF, "127.0.0.1", principal)
    context = Context(request=None, auth=auth, limits=make_settings(**settings).query_limits())
    return await SCHEMA.execute(query, context_value=context)


def _depth_query(depth: int) -> str:
    """Fields nested to operation depth ``depth``, the root field being depth 0 (not a valid
    selection: only the depth rule matters here)."""
    query = "id"
    for _ in range(depth):
        query = f"leads {{ {query} }}"
    return "{ " + query + " }"


async def test_depth_at_the_limit_runs_and_one_deeper_is_refused() -> None:
    at = await _run(_depth_query(MAX_DEPTH))
    over = await _run(_depth_query(MAX_DEPTH + 1))

    assert at.errors
    assert not any("depth" in e.message for e in at.errors)
    assert over.errors
    assert any("depth" in e.message for e in over.errors)


def _tokens_query(count: int) -> str:
    """``{ leads(filter: {stage: [LEAD, …]}) { totalCount } }``: 16 tokens plus the list."""
    stages = ", ".join(["LEAD"] * (count - 16))
    return "{ leads(filter: {stage: [" + stages + "]}) { totalCount } }"


async def test_tokens_at_the_limit_run_and_one_more_is_refused() -> None:
    at = await _run(_tokens_query(MAX_TOKENS))
    over = await _run(_tokens_query(MAX_TOKENS + 1))

    assert at.errors is None
    assert over.errors
    assert "token" in over.errors[0].message.lower()


def _aliases(count: int) -> str:
    return "{ " + " ".join(f"a{i}: campaigns {{ id }}" for i in range(count)) + " }"


async def test_aliases_at_the_limit_run_and_one_more_is_refused() -> None:
    at = await _run(_aliases(MAX_ALIASES))
    over = await _run(_aliases(MAX_ALIASES + 1))

    assert at.errors is None
    assert over.errors
    assert "alias" in over.errors[0].message.lower()


def _directives(count: int) -> str:
    fields = " ".join(f"f{i}: id @include(if: true)" for i in range(count))
    return "{ campaigns { " + fields + " } }"


async def test_directives_at_the_limit_run_and_one_more_is_refused() -> None:
    at = await _run(_directives(MAX_DIRECTIVES))
    over = await _run(_directives(MAX_DIRECTIVES + 1))

    assert at.errors is None
    assert over.errors
    assert over.errors[0].extensions["code"] == "TOO_MANY_DIRECTIVES"


async def test_a_directive_repeated_at_one_place_is_refused() -> None:
    result = await _run("{ campaigns { id @skip(if: false) @skip(if: false) } }")

    assert result.errors
    assert any(
        e.extensions and e.extensions.get("code") == "REPEATED_DIRECTIVE" for e in result.errors
    )


async def test_cost_at_the_limit_runs_is_reported_and_over_it_is_refused() -> None:
    # leads(first: n) { edges { node { id } } } costs 1 + 2n
    at = await _run("{ leads(first: 50) { edges { node { stage } } } }", max_query_cost=101)
    over = await _run("{ leads(first: 51) { edges { node { stage } } } }", max_query_cost=101)

    assert at.errors is None
    assert at.extensions["cost"] == {"requested": 101, "limit": 101}
    assert over.data is None
    assert over.errors[0].extensions["code"] == "QUERY_TOO_COSTLY"


async def test_cost_follows_variables_and_nested_lists() -> None:
    query = (
        "query ($n: Int!) { leads(first: $n) { edges { node { "
        "activities(first: 10) { edges { node { id } } } } } } }"
    )
    principal = Principal(role=Role.MARKETER)
    context = Context(
        request=None,
        auth=RequestAuth(AuthStage.STAFF, "127.0.0.1", principal),
        limits=make_settings().query_limits(),
    )

    result = await SCHEMA.execute(query, variable_values={"n": 20}, context_value=context)

    assert result.extensions["cost"]["requested"] == 1 + 20 * (1 + 1 + 1 + 10 * 2)


@pytest.fixture
def frozen_at(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    now = [datetime(2026, 6, 1, 12, 0, 5, tzinfo=UTC)]
    monkeypatch.setattr(clock, "now", lambda: now[0])
    return now


async def test_the_request_budget_is_shared_by_every_process_and_resets_each_minute(
    frozen_at: list[datetime],
) -> None:
    settings = make_settings(Environment.PROD, rate_limit_requests=3)
    user = await a_staff_user(Role.MARKETER)
    token = await session_token(user, created_at=frozen_at[0])
    apps = [create_app(settings, manage_database=False) for _ in range(2)]
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        for app in apps
    ]
    body = {"query": "{ campaigns { id } }"}
    try:
        answers = [
            await clients[i % 2].post("/graphql", json=body, headers=bearer(token))
            for i in range(4)
        ]
        frozen_at[0] += timedelta(minutes=1)
        next_minute = await clients[0].post("/graphql", json=body, headers=bearer(token))
    finally:
        for http in clients:
            await http.aclose()

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[2].json()["extensions"]["rateLimit"]["remainingRequests"] == 0
    refused = answers[3]
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert refused.json()["data"] is None
    assert refused.headers["retry-after"] == "55"
    assert next_minute.status_code == 200


async def test_the_cost_budget_counts_query_cost(frozen_at: list[datetime]) -> None:
    settings = make_settings(Environment.PROD, rate_limit_cost=60)
    user = await a_staff_user(Role.MARKETER)
    token = await session_token(user, created_at=frozen_at[0])
    query = {"query": "{ leads(first: 10) { edges { node { stage } } } }"}  # costs 21
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(settings, manage_database=False)),
        base_url="http://t",
    ) as http:
        codes = [
            (await http.post("/graphql", json=query, headers=bearer(token))).status_code
            for _ in range(3)
        ]

    assert codes == [200, 200, 429]
