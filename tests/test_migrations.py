"""The committed migrations produce exactly the schema the models describe."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from tortoise import Tortoise, connections
from tortoise.migrations.autodetector import MigrationAutodetector
from tortoise.models import Model

from server.db import APP_LABEL, tortoise_config
from server.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


async def test_models_have_no_changes_missing_from_the_migrations() -> None:
    config = tortoise_config("sqlite://:memory:")["apps"]
    detector = MigrationAutodetector(Tortoise.apps, config)  # type: ignore[arg-type]

    writers = await detector.changes()

    assert writers == [], "run `tortoise makemigrations` and commit the new migration"


async def _table_columns(database: str, table: str) -> set[str]:
    conn = connections.get("default")
    if database == "postgres":
        rows = await conn.execute_query_dict(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = $1",
            [table],
        )
        return {row["column_name"] for row in rows}
    rows = await conn.execute_query_dict(f'PRAGMA table_info("{table}")')
    return {row["name"] for row in rows}


async def _index_names(database: str, table: str) -> set[str]:
    conn = connections.get("default")
    if database == "postgres":
        rows = await conn.execute_query_dict(
            "SELECT indexname AS name FROM pg_indexes WHERE tablename = $1", [table]
        )
    else:
        rows = await conn.execute_query_dict(f'PRAGMA index_list("{table}")')
    return {row["name"] for row in rows}


def _models() -> list[type[Model]]:
    return list(Tortoise.apps[APP_LABEL].values())


async def test_a_migrated_database_has_every_model_column_and_no_other(database: str) -> None:
    for model in _models():
        expected = set(model._meta.fields_db_projection.values())
        actual = await _table_columns(database, model._meta.db_table)
        assert actual == expected, model.__name__


async def test_a_migrated_database_has_every_declared_index(database: str) -> None:
    checked = 0
    for model in _models():
        declared = {index.name for index in model._meta.indexes if index.name}
        actual = await _index_names(database, model._meta.db_table)
        assert declared <= actual, model.__name__
        checked += len(declared)
    assert checked >= 6


async def test_the_migration_is_recorded_as_applied() -> None:
    rows = await connections.get("default").execute_query_dict(
        "SELECT name FROM tortoise_migrations"
    )
    assert "0001_initial" in {row["name"] for row in rows}


def _upgrade_step(url: str, step: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "tests.upgrader", url, step],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture
async def upgrade_database_url(
    database: str, settings: Settings, tmp_path: Path
) -> AsyncIterator[str]:
    """A database of its own (the suite's is already at the latest migration)."""
    if database != "postgres":
        yield f"sqlite://{tmp_path / 'upgrade.sqlite3'}"
        return
    url = settings.database_url.reveal()
    name = "leadvault_upgrade_test"
    admin = await asyncpg.connect(url)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name}")
        await admin.execute(f"CREATE DATABASE {name}")
        yield url.rsplit("/", 1)[0] + "/" + name
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name}")
        await admin.close()


async def test_a_database_with_audit_events_upgrades_and_its_events_join_the_chain(
    upgrade_database_url: str,
) -> None:
    _upgrade_step(upgrade_database_url, "0003_access_policy")
    _upgrade_step(upgrade_database_url, "events")

    report = json.loads(_upgrade_step(upgrade_database_url, "latest"))

    assert report == {"ok": True, "checked": 3}


async def test_a_database_with_leads_upgrades_through_scoring_and_the_pipeline_columns(
    upgrade_database_url: str,
) -> None:
    _upgrade_step(upgrade_database_url, "0005_consent_ledger")
    _upgrade_step(upgrade_database_url, "lead")
    _upgrade_step(upgrade_database_url, "latest")

    lead = json.loads(_upgrade_step(upgrade_database_url, "read-lead"))

    assert lead == {
        "breakdown": [],
        "version": None,
        "deal_value": None,
        "sql_at": None,
        "reason": None,
    }
