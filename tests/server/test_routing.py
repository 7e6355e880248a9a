"""Database settings for scale: the pool size and statement cache reach the PostgreSQL
client, and a replica gets only the reads of read-only operations made outside a
transaction."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tortoise.transactions import in_transaction

from core.request_context import bind_read_only
from identity.models import Team
from leads.models import Lead
from schema import observe
from server import routing
from server.db import Pool, dialect_of, tortoise_config
from server.settings import Settings, SettingsError
from tests.builders import a_lead, graphql
from tests.conftest import _test_database_url

PG = "postgres://app:secret@db.internal:5432/leadvault"


@pytest.fixture
def reading_only() -> Any:
    bind_read_only(True)
    yield
    bind_read_only(False)


def test_the_pool_size_and_statement_cache_reach_the_postgresql_client() -> None:
    config = tortoise_config(PG, pool=Pool(size=7, statement_cache=False))
    default = config["connections"]["default"]

    assert default["engine"] == "server.postgres_backend"
    assert default["credentials"]["maxsize"] == 7
    assert default["credentials"]["minsize"] == 1
    assert default["credentials"]["statement_cache_size"] == 0
    cached = tortoise_config(PG, pool=Pool(size=3))["connections"]["default"]["credentials"]
    assert "statement_cache_size" not in cached  # asyncpg's default cache stays on


def test_settings_read_the_pool_cache_and_replica_and_refuse_a_mismatched_replica() -> None:
    settings = Settings.from_env(
        {
            "LEADVAULT_DATABASE_URL": PG,
            "LEADVAULT_DB_POOL_SIZE": "25",
            "LEADVAULT_DB_STATEMENT_CACHE": "false",
            "LEADVAULT_REPLICA_DATABASE_URL": PG.replace("db.internal", "replica.internal"),
        }
    )
    assert (settings.db_pool_size, settings.db_statement_cache) == (25, False)
    assert "secret" not in settings.describe()["replica_url"]
    with pytest.raises(SettingsError, match="REPLICA_DATABASE_URL"):
        Settings.from_env(
            {"LEADVAULT_DATABASE_URL": PG, "LEADVAULT_REPLICA_DATABASE_URL": "sqlite://x.db"}
        )
    with pytest.raises(SettingsError, match="DB_POOL_SIZE"):
        Settings.from_env({"LEADVAULT_DB_POOL_SIZE": "0"})


def test_a_replica_adds_its_connection_and_the_router() -> None:
    config = tortoise_config(PG, replica_url=PG.replace("db.internal", "replica.internal"))
    assert config["connections"][routing.REPLICA]["credentials"]["host"] == "replica.internal"
    assert config["routers"] == ["server.routing.ReplicaRouter"]
    assert tortoise_config(PG)["routers"] == []


@pytest.mark.usefixtures("reading_only")
async def test_a_read_only_operations_reads_outside_a_transaction_go_to_the_replica() -> None:
    router = routing.ReplicaRouter()

    assert router.db_for_read(Lead) == routing.REPLICA
    assert router.db_for_write(Lead) is None
    async with in_transaction("default"):
        assert router.db_for_read(Lead) is None  # a read inside a transaction: the primary


async def test_reads_of_an_operation_that_may_write_stay_on_the_primary() -> None:
    bind_read_only(False)
    assert routing.ReplicaRouter().db_for_read(Team) is None


async def test_queries_are_marked_read_only_and_mutations_are_not(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    monkeypatch.setattr(observe, "bind_read_only", lambda value: seen.append(value))
    lead = await a_lead()

    await graphql(client, "{ leads(first: 1) { totalCount } }")
    query = list(seen)
    seen.clear()
    await graphql(
        client,
        "mutation ($id: ID!) { changeStage(leadId: $id, to: MQL) { __typename } }",
        {"id": str(lead.id)},
    )

    assert query == [False, True, False]  # cleared, set for execution, cleared at the end
    assert seen == [False, False, False]


@pytest.mark.skipif(dialect_of(_test_database_url()) != "postgres", reason="PostgreSQL only")
async def test_without_the_statement_cache_nothing_is_kept_prepared_between_statements() -> None:
    from server import postgres_backend

    config = tortoise_config(_test_database_url(), pool=Pool(size=2, statement_cache=False))
    credentials = dict(config["connections"]["default"]["credentials"])
    client = postgres_backend.client_class(connection_name="pgbouncer", **credentials)
    await client.create_connection(with_db=True)
    try:
        for _ in range(3):
            assert await client.execute_query_dict("SELECT 1 AS one") == [{"one": 1}]
        async with client.acquire_connection() as connection:
            prepared = await connection.fetchval(
                "SELECT count(*) FROM pg_prepared_statements WHERE NOT from_sql"
            )
            assert connection._stmt_cache.get_max_size() == 0
        assert prepared == 0
    finally:
        await client.close()
