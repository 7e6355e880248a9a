"""Hostile or sloppy requests get a typed JSON refusal with the security headers, never a
500, and nothing runs: UTF-8 JSON only, no repeated keys, bounded nesting, no unpaired
surrogates, the documented body shape, one operation chosen unambiguously, one
Authorization header, one way of framing the body."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from identity.models import StaffSession
from identity.roles import Role
from leads.models import Lead
from server.app import create_app
from server.settings import Environment
from tests.builders import a_staff_user, bearer, session_token
from tests.conftest import make_settings

JSON = {"Content-Type": "application/json"}


@pytest.fixture
async def prod() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(Environment.PROD), manage_database=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        yield http


def _refusal(response: httpx.Response, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "x-request-id" in response.headers
    error: dict[str, Any] = response.json()["errors"][0]
    return error


async def _manager() -> dict[str, str]:
    return bearer(await session_token(await a_staff_user(Role.SALES_MANAGER)))


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({"Content-Type": "application/json; charset=latin-1"}, b'{"query": "{ me { id } }"}'),
        (JSON, '{"query": "{ me { id } }"}'.encode("utf-16")),
        (JSON, b'\xef\xbb\xbf{"query": "{ me { id } }"}'),
        (JSON, b'{"query": "{ me { id } }", "query": "mutation { logout }"}'),
        (JSON, b'{"query": "{ me { id } }", "variables": {"a": 1, "a": 2}}'),
        (JSON, b'{"query": "\xff"}'),
    ],
    ids=["latin-1", "utf-16", "bom", "repeated-key", "repeated-variable", "not-utf-8"],
)
async def test_only_strict_utf8_json_is_taken(
    prod: httpx.AsyncClient, headers: dict[str, str], body: bytes
) -> None:
    response = await prod.post("/graphql", content=body, headers={**headers, **await _manager()})

    assert _refusal(response, response.status_code)["extensions"]["code"] in {
        "BAD_REQUEST",
        "UNSUPPORTED_MEDIA_TYPE",
    }
    assert response.status_code in {400, 415}


async def test_utf8_with_its_charset_named_is_taken(prod: httpx.AsyncClient) -> None:
    response = await prod.post(
        "/graphql",
        content=b'{"query": "{ campaigns { id } }"}',
        headers={"Content-Type": "application/json; charset=UTF-8", **await _manager()},
    )

    assert response.status_code == 200
    assert "errors" not in response.json()


async def test_deeply_nested_variables_are_refused_without_a_traceback(
    prod: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    body = b'{"query": "{ campaigns { id } }", "variables": {"x": ' + b"[" * 30000
    body += b"]" * 30000 + b"}}"
    caplog.set_level(logging.DEBUG)

    response = await prod.post("/graphql", content=body, headers=JSON)

    assert _refusal(response)["extensions"]["code"] == "BAD_REQUEST"
    assert "Traceback" not in caplog.text
    assert all(record.exc_info is None for record in caplog.records)


async def test_nesting_just_inside_the_limit_is_read(prod: httpx.AsyncClient) -> None:
    from server.graphql_http import MAX_JSON_DEPTH

    inner: Any = 1
    for _ in range(MAX_JSON_DEPTH - 2):  # the body object and "variables" are two levels
        inner = [inner]
    at_limit = {"query": "{ campaigns { id } }", "variables": {"x": inner}}
    over = {"query": "{ campaigns { id } }", "variables": {"x": [inner]}}

    fine = await prod.post("/graphql", json=at_limit, headers=await _manager())
    refused = await prod.post("/graphql", json=over, headers=await _manager())

    assert fine.status_code == 200
    assert _refusal(refused)["message"] == "the body is nested too deeply"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"query": 5}, "query"),
        ({"query": "{ me { id } }", "variables": "x"}, "variables"),
        ({"query": "{ me { id } }", "operationName": 3}, "operationName"),
        ({"query": "{ me { id } }", "extensions": []}, "extensions"),
        ({"variables": {}}, "query"),
    ],
)
async def test_a_body_of_the_wrong_shape_is_refused_naming_the_key(
    prod: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    response = await prod.post("/graphql", json=body, headers=await _manager())

    assert _refusal(response)["extensions"] == {"code": "BAD_REQUEST", "field": field}


async def test_an_unknown_key_is_refused(prod: httpx.AsyncClient) -> None:
    response = await prod.post(
        "/graphql", json={"query": "{ me { id } }", "queryId": "x"}, headers=await _manager()
    )

    assert "unknown key" in _refusal(response)["message"]


async def test_an_unknown_operation_name_is_refused(prod: httpx.AsyncClient) -> None:
    response = await prod.post(
        "/graphql",
        json={"query": "query A { me { id } }", "operationName": "B"},
        headers=await _manager(),
    )

    assert _refusal(response)["extensions"] == {"code": "BAD_REQUEST", "field": "operationName"}


async def test_several_operations_without_a_name_run_nothing(prod: httpx.AsyncClient) -> None:
    user = await a_staff_user(Role.SALES_MANAGER)
    headers = bearer(await session_token(user))

    response = await prod.post(
        "/graphql",
        json={"query": "mutation { logout } query { campaigns { id } }"},
        headers=headers,
    )
    named = await prod.post(
        "/graphql",
        json={
            "query": "mutation Out { logout } query Me { campaigns { id } }",
            "operationName": "Me",
        },
        headers=headers,
    )

    assert _refusal(response)["extensions"] == {"code": "BAD_REQUEST", "field": "operationName"}
    assert await StaffSession.filter(user_id=user.id, revoked_at__isnull=True).exists()
    assert named.status_code == 200
    assert "errors" not in named.json()


@pytest.mark.parametrize(
    "where",
    [
        {"input": {"lead": {"firstName": "\ud800"}}},
        {"input": {"lead": {"companyName": "Acme \udfff"}}},
        {"input": {"utm": {"source": "\ud800x"}}},
    ],
)
async def test_an_unpaired_surrogate_is_refused_naming_its_field(
    prod: httpx.AsyncClient, where: dict[str, Any]
) -> None:
    body = json.dumps({"query": "mutation ($input: X) { x }", "variables": where})

    response = await prod.post(
        "/graphql", content=body.encode(), headers={**JSON, **await _manager()}
    )

    error = _refusal(response)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    path = error["extensions"]["field"]
    assert path.startswith("variables.input.")
    assert path.split(".")[-1] in {"firstName", "companyName", "source"}
    assert "\\ud" not in response.text
    assert await Lead.all().count() == 0


async def test_a_chain_of_fragments_is_refused_before_the_depth_check(
    prod: httpx.AsyncClient,
) -> None:
    fragments = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(300))
    query = "query { ...F0 } " + fragments + " fragment F300 on Query { __typename }"

    response = await prod.post("/graphql", json={"query": query}, headers=JSON)

    assert _refusal(response)["extensions"] == {"code": "BAD_REQUEST", "field": "query"}


async def test_a_short_fragment_chain_still_runs(prod: httpx.AsyncClient) -> None:
    query = "query { ...A } fragment A on Query { ...B } fragment B on Query { campaigns { id } }"

    response = await prod.post("/graphql", json={"query": query}, headers=await _manager())

    assert response.status_code == 200
    assert response.json()["data"] == {"campaigns": []}


async def test_two_authorization_headers_are_refused(prod: httpx.AsyncClient) -> None:
    token = (await _manager())["Authorization"]
    request = prod.build_request(
        "POST",
        "/graphql",
        json={"query": "{ me { id } }"},
        headers=[("Authorization", token), ("Authorization", "Bearer other")],
    )

    response = await prod.send(request)

    assert _refusal(response)["message"] == "send one Authorization header"


async def test_content_length_with_transfer_encoding_is_refused(prod: httpx.AsyncClient) -> None:
    request = prod.build_request(
        "POST",
        "/graphql",
        content=b'{"query": "{ me { id } }"}',
        headers={**JSON, "Transfer-Encoding": "chunked"},
    )

    response = await prod.send(request)

    assert "not both" in _refusal(response)["message"]
