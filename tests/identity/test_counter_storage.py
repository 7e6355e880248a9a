"""Request counters cost no fsync per request and never wait for the main database's write
lock: on SQLite they live in a file of their own, written without syncing each commit (the
main database still syncs); on PostgreSQL their table is unlogged."""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise import connections

from identity.rate_limit import COUNTERS_CONNECTION, Budget, counter_connection, spend
from server.db import dialect_of
from tests.conftest import _test_database_url

SYNCHRONOUS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}


async def test_counters_are_written_without_waiting_for_the_disk(database: str) -> None:
    usage = await spend("user:counter-test", 5, Budget(10, 100), datetime.now(UTC))
    assert (usage.requests, usage.cost) == (1, 5)
    if dialect_of(_test_database_url()) == "postgres":
        rows = await connections.get("default").execute_query_dict(
            "SELECT relpersistence::text AS persistence FROM pg_class "
            "WHERE relname = 'rate_limit_counter'"
        )
        assert rows == [{"persistence": "u"}]
        return
    assert counter_connection() is connections.get(COUNTERS_CONNECTION)
    counters = await counter_connection().execute_query_dict("PRAGMA synchronous")
    main = await connections.get("default").execute_query_dict("PRAGMA synchronous")
    assert SYNCHRONOUS[counters[0]["synchronous"]] == "NORMAL"
    assert SYNCHRONOUS[main[0]["synchronous"]] == "FULL"
    files = [
        (await connection.execute_query_dict("PRAGMA database_list"))[0]["file"]
        for connection in (counter_connection(), connections.get("default"))
    ]
    assert files[0] == f"{files[1]}-counters"
    again = await spend("user:counter-test", 5, Budget(10, 100), datetime.now(UTC))
    assert (again.requests, again.cost) == (2, 10)  # counted on in the same window
