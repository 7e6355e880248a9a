"""Database wiring: the Tortoise configuration, start-up, migrations and readiness."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tortoise import Tortoise, connections
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate as migrate_api

from server.settings import Settings

APP_LABEL = "leadvault"
MODEL_MODULES = ["leads.models", "server.auth.models"]
MIGRATIONS_MODULE = "migrations"


def tortoise_config(database_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": database_url},
        "apps": {
            APP_LABEL: {
                "models": MODEL_MODULES,
                "migrations": MIGRATIONS_MODULE,
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


TORTOISE_ORM = tortoise_config("sqlite://:memory:")
"""Configuration for the ``tortoise makemigrations`` tool (see pyproject ``[tool.tortoise]``)."""


def dialect_of(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgres"


def _prepare_sqlite_dir(database_url: str) -> None:
    if dialect_of(database_url) != "sqlite":
        return
    file_path = expand_db_url(database_url)["credentials"]["file_path"]
    if file_path != ":memory:":
        Path(file_path).parent.mkdir(parents=True, exist_ok=True)


async def init_db(settings: Settings, *, global_fallback: bool = True) -> None:
    """Open the ORM on the configured database (connections open lazily)."""
    url = settings.database_url.reveal()
    _prepare_sqlite_dir(url)
    await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=global_fallback)


async def close_db() -> None:
    await Tortoise.close_connections()


async def migrate(settings: Settings) -> None:
    """Apply every migration not yet applied. Safe to run repeatedly."""
    url = settings.database_url.reveal()
    _prepare_sqlite_dir(url)
    await migrate_api(config=tortoise_config(url))


async def database_is_ready() -> bool:
    try:
        await connections.get("default").execute_query("SELECT 1")
    except Exception:
        return False
    return True
