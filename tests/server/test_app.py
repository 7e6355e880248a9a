from __future__ import annotations

import json
import logging

import httpx
import pytest

from server.app import create_app
from server.logs import (
    VALUE_CARRYING_LOGGERS,
    JsonFormatter,
    hold_back_value_carrying_loggers,
)
from server.settings import Environment
from tests.conftest import make_settings


async def test_healthz_says_the_process_is_alive(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_checks_the_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


async def test_readyz_reports_unavailable_when_the_database_fails(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tortoise import connections

    async def broken(*_: object, **__: object) -> None:
        raise ConnectionError("database down")

    monkeypatch.setattr(connections.get("default"), "execute_query", broken)
    response = await client.get("/readyz")
    assert response.status_code == 503


async def test_every_response_carries_a_request_id(client: httpx.AsyncClient) -> None:
    first = await client.get("/healthz")
    second = await client.get("/healthz")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_a_well_formed_caller_request_id_is_kept(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "trace-abc-12345"})
    assert response.headers["x-request-id"] == "trace-abc-12345"


async def test_a_malformed_caller_request_id_is_replaced(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "<script>"})
    assert response.headers["x-request-id"] != "<script>"


async def _production_client() -> httpx.AsyncClient:
    app = create_app(make_settings(Environment.PROD), manage_database=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_production_refuses_lead_queries_without_credentials() -> None:
    async with await _production_client() as http:
        response = await http.post("/graphql", json={"query": "{ leads { totalCount } }"})
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_token_that_is_not_valid_gets_401() -> None:
    async with await _production_client() as http:
        response = await http.post(
            "/graphql",
            json={"query": "{ leads { totalCount } }"},
            headers={"Authorization": "Bearer lvs_not-a-real-session"},
        )
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_production_serves_no_graphiql() -> None:
    async with await _production_client() as http:
        response = await http.get("/graphql", headers={"Accept": "text/html"})
        asset = await http.get("/graphiql/graphiql.min.js")
    assert response.status_code in (401, 404, 405)
    assert "graphiql" not in response.text.lower()
    assert asset.status_code == 404


async def test_development_serves_graphiql_from_its_own_files_under_a_strict_policy(
    client: httpx.AsyncClient,
) -> None:
    from server.graphiql import PAGE_POLICY, VENDORED, integrity

    response = await client.get("/graphql", headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert response.headers["content-security-policy"] == PAGE_POLICY
    assert "'unsafe-inline'" not in PAGE_POLICY
    assert "'unsafe-eval'" not in PAGE_POLICY
    assert "<script>" not in response.text
    assert "<style>" not in response.text
    assert "https://" not in response.text
    for name, (_, published) in VENDORED.items():
        assert integrity(name) == published  # the vendored copy is the published file
        assert f'integrity="{published}"' in response.text
        served = await client.get(f"/graphiql/{name}")
        assert served.status_code == 200
    assert (await client.get("/graphiql/index.html")).status_code == 404


async def test_access_log_holds_no_personal_values(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    mutation = """mutation ($input: NewLeadInput!) { createLead(input: $input) { __typename } }"""
    variables = {
        "input": {
            "email": "secret.person@example.com",
            "firstName": "Zebulon",
            "source": "WEB_FORM",
        }
    }
    saved = {name: logging.getLogger(name).level for name in VALUE_CARRYING_LOGGERS}
    try:
        hold_back_value_carrying_loggers()
        with caplog.at_level(logging.DEBUG):
            response = await client.post(
                "/graphql?email=secret.person@example.com",
                json={"query": mutation, "variables": variables},
            )
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)
    assert response.status_code == 200
    lines = [JsonFormatter().format(r) for r in caplog.records if r.name != "httpx"]
    access = [json.loads(line) for line in lines if '"leadvault.access"' in line]
    assert access
    assert (access[-1]["path"], access[-1]["status"]) == ("/graphql", 200)
    everything = "\n".join(lines)
    assert "secret.person" not in everything
    assert "Zebulon" not in everything


def test_responses_are_encoded_as_utf8_json_and_odd_values_still_encode() -> None:
    from server.app import GraphQLApp
    from tests.conftest import make_settings

    app = GraphQLApp(make_settings())

    assert app.encode_json({"name": "Zoë", "n": 1}) == '{"name":"Zoë","n":1}'.encode()
    assert app.encode_json({"odd": "\ud800"}) == '{"odd":"\\ud800"}'
    assert app.decode_json(b'{"a": [1, 2]}') == {"a": [1, 2]}
