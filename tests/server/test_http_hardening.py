"""What ``/graphql`` refuses over HTTP in production, one test per limit at and over it."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from identity.roles import Role
from server.app import create_app
from server.persisted import operation_hash
from server.settings import Environment, Settings, SettingsError
from tests.builders import a_staff_user, bearer, session_token
from tests.conftest import make_settings

QUERY = "{ campaigns { id } }"


def _client(settings: Settings) -> httpx.AsyncClient:
    app = create_app(settings, manage_database=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


@pytest.fixture
async def prod() -> AsyncIterator[httpx.AsyncClient]:
    async with _client(make_settings(Environment.PROD)) as http:
        yield http


async def _token(role: Role = Role.MARKETER) -> dict[str, str]:
    return bearer(await session_token(await a_staff_user(role)))


async def test_queries_over_get_are_refused_in_production(prod: httpx.AsyncClient) -> None:
    response = await prod.get("/graphql", params={"query": QUERY}, headers=await _token())

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", b"query=%7B__typename%7D"),
        ("multipart/form-data; boundary=x", b"--x\r\n\r\n{}\r\n--x--"),
        ("text/plain", b'{"query": "{ __typename }"}'),
    ],
)
async def test_only_json_bodies_are_taken(
    prod: httpx.AsyncClient, content_type: str, body: bytes
) -> None:
    headers = {**await _token(), "Content-Type": content_type}

    response = await prod.post("/graphql", content=body, headers=headers)

    assert response.status_code == 415


async def test_batches_are_refused(prod: httpx.AsyncClient) -> None:
    response = await prod.post(
        "/graphql", json=[{"query": QUERY}, {"query": QUERY}], headers=await _token()
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BATCHING_DISABLED"


async def test_a_body_at_the_cap_is_read_and_one_over_is_refused() -> None:
    settings = make_settings(Environment.PROD, max_body_bytes=2048)
    headers = {**await _token(), "Content-Type": "application/json"}

    def body_of(size: int) -> bytes:
        base = {"query": QUERY, "variables": {"pad": ""}}
        padding = size - len(json.dumps(base).encode())
        return json.dumps({"query": QUERY, "variables": {"pad": "x" * padding}}).encode()

    async def chunks(data: bytes) -> AsyncIterator[bytes]:
        for start in range(0, len(data), 512):
            yield data[start : start + 512]

    async with _client(settings) as http:
        at = await http.post("/graphql", content=body_of(2048), headers=headers)
        over = await http.post("/graphql", content=body_of(2049), headers=headers)
        streamed = await http.post("/graphql", content=chunks(body_of(4000)), headers=headers)

    assert at.status_code == 200
    assert at.json()["data"] == {"campaigns": []}
    assert over.status_code == 413
    assert streamed.status_code == 413
    assert streamed.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"


async def test_introspection_is_off_in_production(prod: httpx.AsyncClient) -> None:
    response = await prod.post(
        "/graphql", json={"query": "{ __schema { types { name } } }"}, headers=await _token()
    )

    assert response.json()["data"] is None
    assert "introspection" in response.json()["errors"][0]["message"].lower()


@pytest.mark.parametrize(
    "query",
    [
        "{ leads { edges { node { emial } } } }",
        "{ leads(fist: 1) { totalCount } }",
        "{ leads(filter: {stage: [SQLL]}) { totalCount } }",
    ],
)
async def test_errors_make_no_suggestions(prod: httpx.AsyncClient, query: str) -> None:
    response = await prod.post("/graphql", json={"query": query}, headers=await _token())

    errors = response.json()["errors"]
    assert errors
    assert not any("did you mean" in e["message"].lower() for e in errors)


async def test_security_headers_are_on_every_response(prod: httpx.AsyncClient) -> None:
    graphql = await prod.post("/graphql", json={"query": QUERY}, headers=await _token())
    health = await prod.get("/healthz")

    for response in (graphql, health):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["cache-control"] == "no-store"
        assert "default-src 'none'" in response.headers["content-security-policy"]
        assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_cors_answers_only_allowed_origins() -> None:
    settings = make_settings(Environment.PROD, cors_origins=("https://app.example.com",))
    preflight = {"Access-Control-Request-Method": "POST"}
    async with _client(settings) as http:
        allowed = await http.options(
            "/graphql", headers={"Origin": "https://app.example.com", **preflight}
        )
        refused = await http.options(
            "/graphql", headers={"Origin": "https://evil.example.com", **preflight}
        )

    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "access-control-allow-origin" not in refused.headers


async def test_unexpected_errors_are_masked_with_an_id_that_is_in_the_log(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken() -> list[Any]:
        raise ValueError("jane@example.com is not a campaign")

    monkeypatch.setattr("schema.leads.queries.list_campaigns", broken)

    with caplog.at_level(logging.ERROR, logger="leadvault.errors"):
        response = await client.post("/graphql", json={"query": QUERY})

    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "jane@example.com" not in response.text
    logged = [r for r in caplog.records if r.name == "leadvault.errors"]
    assert [getattr(r, "error_id", None) for r in logged] == [error["extensions"]["errorId"]]
    assert logged[0].error_type == "ValueError"  # type: ignore[attr-defined]
    assert "jane@example.com" not in caplog.text


def _manifest(tmp_path: Path, *documents: str) -> Path:
    path = tmp_path / "operations.json"
    path.write_text(json.dumps({operation_hash(d): d for d in documents}))
    return path


async def test_required_persisted_operations_run_by_hash_and_refuse_anything_else(
    tmp_path: Path,
) -> None:
    settings = make_settings(
        Environment.PROD,
        persisted_operations_file=_manifest(tmp_path, QUERY),
        require_persisted_operations=True,
    )
    headers = await _token()
    by_hash = {
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": operation_hash(QUERY)}}
    }
    async with _client(settings) as http:
        known = await http.post("/graphql", json=by_hash, headers=headers)
        full_known = await http.post("/graphql", json={"query": QUERY}, headers=headers)
        unknown = await http.post(
            "/graphql", json={"query": "{ leads { totalCount } }"}, headers=headers
        )
        unknown_hash = await http.post(
            "/graphql",
            json={"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}},
            headers=headers,
        )

    assert known.json()["data"] == {"campaigns": []}
    assert full_known.json()["data"] == {"campaigns": []}
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_REQUIRED"
    assert unknown_hash.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


def test_a_manifest_entry_whose_hash_does_not_match_stops_start_up(tmp_path: Path) -> None:
    path = tmp_path / "operations.json"
    path.write_text(json.dumps({"0" * 64: QUERY}))
    settings = make_settings(Environment.PROD, persisted_operations_file=path)

    with pytest.raises(SettingsError, match="do not match"):
        create_app(settings, manage_database=False)


def test_requiring_persisted_operations_needs_a_manifest() -> None:
    with pytest.raises(SettingsError, match="PERSISTED_OPERATIONS_FILE"):
        Settings.from_env({"LEADVAULT_REQUIRE_PERSISTED_OPERATIONS": "true"})
