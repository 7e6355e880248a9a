"""Reads outside a transaction on the embedded SQLite database use a connection of their
own: they do not wait for a transaction under way (or waiting for its turn among writers),
they see what has committed and nothing that has not, and a read inside a transaction
sees that transaction's own writes."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from tortoise import connections
from tortoise.exceptions import OperationalError
from tortoise.transactions import in_transaction

from identity.models import Team
from server.db import dialect_of
from server.sqlite_backend import reads_only
from tests.conftest import _test_database_url
from tests.querycount import count_queries

pytestmark = pytest.mark.skipif(
    dialect_of(_test_database_url()) != "sqlite", reason="the embedded database only"
)


async def test_a_read_does_not_wait_for_a_transaction_under_way() -> None:
    holding, release = asyncio.Event(), asyncio.Event()

    async def writer() -> None:
        async with in_transaction("default"):
            await Team.create(name="Uncommitted")
            holding.set()
            await release.wait()

    task = asyncio.create_task(writer())
    try:
        async with asyncio.timeout(5):
            await holding.wait()
            before = await Team.filter(name="Uncommitted").count()  # on the old code: waits
    finally:
        release.set()
        await task

    assert before == 0  # not committed yet: not seen
    assert await Team.filter(name="Uncommitted").count() == 1  # committed: seen at once


async def test_a_read_inside_a_transaction_sees_its_own_writes() -> None:
    async with in_transaction("default"):
        await Team.create(name="Mine")
        assert await Team.filter(name="Mine").exists()
        assert await Team.filter(name="Mine").values_list("name", flat=True) == ["Mine"]


async def test_the_read_connection_refuses_to_write() -> None:
    client = connections.get("default")
    reader = await client._reading()  # type: ignore[attr-defined]

    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        await reader.execute("DELETE FROM team")


async def test_reads_are_logged_and_counted_like_any_statement() -> None:
    with count_queries() as statements:
        await Team.all().count()
        await Team.all().values("id")

    assert statements == ["SELECT", "SELECT"]


@pytest.mark.parametrize(
    ("query", "separate"),
    [
        ("SELECT 1", True),
        ("  select id FROM team", True),
        ("UPDATE team SET name = 'x'", False),
        ("WITH t AS (SELECT 1) DELETE FROM team", False),
        ("INSERT INTO team (name) VALUES ('x') RETURNING id", False),
        ("PRAGMA wal_checkpoint", False),
    ],
)
def test_only_select_statements_go_to_the_read_connection(query: str, separate: bool) -> None:
    assert reads_only(query) is separate


async def test_a_failed_read_says_so_as_any_database_error() -> None:
    with pytest.raises(OperationalError):
        await connections.get("default").execute_query("SELECT * FROM no_such_table")
