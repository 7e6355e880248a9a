"""A database that answers reads but takes no writes (a full disk, a read-only file): not
ready, and requests fail with a typed, retryable code instead of an internal error."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from tortoise import connections

from identity.rate_limit import COUNTERS_CONNECTION
from server.db import dialect_of
from tests.builders import a_lead, graphql
from tests.conftest import _test_database_url

pytestmark = pytest.mark.skipif(
    dialect_of(_test_database_url()) != "sqlite",
    reason="made read-only with SQLite's query_only switch",
)


async def _query_only(on: bool) -> None:
    """Every connection to the main database (the default one and the counters')."""
    for name in ("default", COUNTERS_CONNECTION):
        await connections.get(name).execute_script(f"PRAGMA query_only = {'ON' if on else 'OFF'}")


@pytest.fixture
async def read_only() -> AsyncIterator[None]:
    await _query_only(True)
    try:
        yield
    finally:
        await _query_only(False)


async def test_readyz_is_ready_only_while_the_database_takes_writes(
    client: httpx.AsyncClient,
) -> None:
    before = await client.get("/readyz")
    db = connections.get("default")
    await db.execute_script("PRAGMA query_only = ON")
    try:
        during = await client.get("/readyz")
        reads_still_work = await db.execute_query_dict("SELECT 1 AS one")
    finally:
        await db.execute_script("PRAGMA query_only = OFF")
    after = await client.get("/readyz")

    assert (before.status_code, during.status_code, after.status_code) == (200, 503, 200)
    assert during.json() == {"status": "unavailable"}
    assert reads_still_work == [{"one": 1}]


async def test_a_read_while_writes_fail_is_storage_unavailable(
    client: httpx.AsyncClient, read_only: None
) -> None:
    await _query_only(False)
    await a_lead(email="ada@example.com")
    await _query_only(True)

    body = await graphql(client, "{ leads { edges { node { email } } } }")

    [error] = body["errors"]
    assert error["extensions"]["code"] == "STORAGE_UNAVAILABLE"
    assert "errorId" in error["extensions"]
    assert "ada@example.com" not in str(body)
