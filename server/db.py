"""Database wiring: the Tortoise configuration, start-up, migrations and readiness."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tortoise import Tortoise, connections
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate as migrate_api

from identity.rate_limit import COUNTERS_CONNECTION, COUNTERS_SCHEMA
from server.routing import REPLICA
from server.settings import Settings, dialect_of
from server.sqlite_backend import BUSY_TIMEOUT_MS

APP_LABEL = "leadvault"
KEYSTORE_CONNECTION = "keystore"
MODEL_MODULES = [
    "crypto.models",
    "leads.models",
    "identity.models",
    "audit.models",
    "compliance.models",
    "compliance.consent.models",
    "leads.scoring.models",
    "compliance.dsr.models",
    "compliance.events.models",
]
MIGRATIONS_MODULE = "migrations"


SQLITE_CACHE_KIB = 65536
"""SQLite page cache per connection (64 MiB; the default 2 MiB makes bulk writes into large
indexes slow down as the tables grow)."""


@dataclass(frozen=True)
class Pool:
    """How each process connects to PostgreSQL: at most ``size`` connections per database,
    and asyncpg's prepared-statement cache on or off (off behind PgBouncer in transaction
    mode, where consecutive statements may reach different server connections)."""

    size: int = 10
    statement_cache: bool = True


def _connection(url: str, pool: Pool = Pool()) -> dict[str, Any]:
    """A PostgreSQL URL as the configuration of the server's asyncpg client
    (:mod:`server.postgres_backend`: audit events written at commit) with the pool's size
    and statement cache; a SQLite URL as the configuration of the embedded client
    (:mod:`server.sqlite_backend`: transactions hold the write lock from their start, after
    their turn among writers), with a larger page cache and a busy timeout unless the URL
    sets them."""
    expanded = expand_db_url(url)
    if not url.startswith("sqlite"):
        expanded["engine"] = "server.postgres_backend"
        credentials = expanded["credentials"]
        credentials["maxsize"] = pool.size
        credentials["minsize"] = min(int(credentials.get("minsize", 1)), pool.size)
        if not pool.statement_cache:
            credentials["statement_cache_size"] = 0
        return expanded
    credentials = expanded["credentials"]
    credentials.setdefault("cache_size", -SQLITE_CACHE_KIB)
    credentials.setdefault("busy_timeout", BUSY_TIMEOUT_MS)
    return {"engine": "server.sqlite_backend", "credentials": credentials}


def _counters(url: str) -> dict[str, Any] | None:
    """On a SQLite file, the request counters live in a file of their own beside it
    (``<database>-counters``), written without waiting for the disk (WAL with
    ``synchronous=NORMAL``). Every request updates a counter; in the main file that write
    would wait for the write lock whenever a transaction of any process holds it (polling,
    with sleeps of up to 100 ms), and each would be one more fsync. Counters are worth
    less: a power cut can lose only the last few counts of the current minute. (On
    PostgreSQL the counters table is unlogged instead; see migration 0011.)"""
    if not url.startswith("sqlite") or ":memory:" in url:
        return None
    config = _connection(url)
    credentials = config["credentials"]
    credentials["file_path"] = f"{credentials['file_path']}-counters"
    credentials["synchronous"] = "NORMAL"
    return config


def tortoise_config(
    database_url: str,
    keystore_url: str | None = None,
    *,
    pool: Pool = Pool(),
    replica_url: str | None = None,
) -> dict[str, Any]:
    """Two connections: ``default`` (lead data) and ``keystore`` (subject data keys, kept in
    a separate database so a copy of one is useless without the other); on SQLite a third,
    ``counters``, to the request counters' own file (:func:`_counters`); with a
    replica, ``replica`` and the router that sends read-only operations' reads there
    (:mod:`server.routing`)."""
    connections_config: dict[str, str | dict[str, Any]] = {
        "default": _connection(database_url, pool)
    }
    counters = _counters(database_url)
    if counters is not None:
        connections_config[COUNTERS_CONNECTION] = counters
    if keystore_url:
        connections_config[KEYSTORE_CONNECTION] = _connection(keystore_url, pool)
    routers: list[str] = []
    if replica_url:
        connections_config[REPLICA] = _connection(replica_url, pool)
        routers.append("server.routing.ReplicaRouter")
    return {
        "connections": connections_config,
        "routers": routers,
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


def _prepare_sqlite_dir(database_url: str) -> None:
    if dialect_of(database_url) != "sqlite":
        return
    file_path = expand_db_url(database_url)["credentials"]["file_path"]
    if file_path != ":memory:":
        Path(file_path).parent.mkdir(parents=True, exist_ok=True)


def _config_for(settings: Settings) -> dict[str, Any]:
    url, keystore_url = settings.database_url.reveal(), settings.keystore_url.reveal()
    _prepare_sqlite_dir(url)
    if keystore_url:
        _prepare_sqlite_dir(keystore_url)
    return tortoise_config(
        url,
        keystore_url or None,
        pool=Pool(settings.db_pool_size, settings.db_statement_cache),
        replica_url=settings.replica_url.reveal() or None,
    )


async def init_db(settings: Settings, *, global_fallback: bool = True) -> None:
    """Open the ORM on the configured databases (connections open lazily), and install
    what the domain reads from configuration: the purposes and consent settings, and the
    ledger as the access policy's source of consent."""
    await Tortoise.init(config=_config_for(settings), _enable_global_fallback=global_fallback)
    await ensure_counters_schema()
    configure_consent(settings)
    configure_followup(settings)
    configure_dsr(settings)


def configure_dsr(settings: Settings) -> None:
    """Deadlines, identity codes, exports and retention from the settings; the request
    purpose provider for compliance officers."""
    from datetime import timedelta

    from compliance.access.purpose import register_purpose_provider
    from rights.config import DsrConfig, install_dsr_config, parse_holidays
    from rights.retention_policy import RetentionPolicy, install_retention_policy
    from rights.subjects import RequestPurposes

    install_dsr_config(
        DsrConfig(
            holidays=parse_holidays(settings.dsr_holidays),
            code_lifetime=timedelta(minutes=settings.dsr_code_minutes),
            step_up_window=timedelta(minutes=settings.step_up_minutes),
            export_dir=settings.data_dir / "exports",
            export_lifetime=timedelta(days=settings.retention_export_days),
            link_lifetime=timedelta(hours=settings.dsr_link_hours),
            public_url=settings.public_url,
            controller=settings.controller_name,
            recipients=settings.recipients,
        )
    )
    install_retention_policy(
        RetentionPolicy(
            lead_months=settings.retention_lead_months,
            activity_months=settings.retention_activity_months,
            session_days=settings.retention_session_days,
            export_days=settings.retention_export_days,
            audit_days=settings.audit_retention_days,
        )
    )
    register_purpose_provider(RequestPurposes())


def configure_followup(settings: Settings) -> None:
    from datetime import timedelta

    from leads.followup import FollowUpConfig, install_followup_config, parse_sla_by_source

    install_followup_config(
        FollowUpConfig(
            sla=timedelta(minutes=settings.first_contact_sla_minutes),
            sla_by_source=parse_sla_by_source(settings.first_contact_sla_by_source),
            cold_after=timedelta(days=settings.cold_after_days),
            intake_team=settings.intake_team,
            welcome_next_step=settings.welcome_next_step,
        )
    )


def configure_consent(settings: Settings) -> None:
    from dataclasses import replace
    from datetime import timedelta

    from compliance.access.consent import install_consent_lookup
    from compliance.consent.config import ConsentConfig, install_consent_config
    from compliance.consent.purposes import (
        DEFAULT_PURPOSES,
        EMAIL_MARKETING,
        Purposes,
        install_purposes,
    )
    from compliance.consent.state import LedgerConsentLookup

    if settings.purposes_file is not None:
        purposes = Purposes.from_file(settings.purposes_file)
    else:
        purposes = Purposes(
            tuple(
                replace(p, double_opt_in=settings.double_opt_in) if p.name == EMAIL_MARKETING else p
                for p in DEFAULT_PURPOSES
            )
        )
    install_purposes(purposes)
    install_consent_config(
        ConsentConfig(
            public_url=settings.public_url,
            link_lifetime=timedelta(days=settings.consent_link_days),
        )
    )
    install_consent_lookup(LedgerConsentLookup())


async def close_db() -> None:
    await Tortoise.close_connections()


async def migrate(settings: Settings) -> None:
    """Apply every migration not yet applied, and create the key store's tables. Safe to
    run repeatedly."""
    config = _config_for(settings)
    await migrate_api(config=config)
    if settings.keystore_url.reveal():
        await ensure_keystore_schema()


async def ensure_counters_schema() -> None:
    """The counters table in the counters file (on SQLite; elsewhere it is migrated)."""
    if COUNTERS_CONNECTION in connections.db_config:
        await connections.get(COUNTERS_CONNECTION).execute_script(COUNTERS_SCHEMA)


async def ensure_keystore_schema() -> None:
    from crypto.keystore import create_schema

    await create_schema(connections.get(KEYSTORE_CONNECTION))


READINESS_PROBE = "readiness-probe"
"""The ``job_lease`` row readiness writes (no job has this name)."""


async def database_is_ready() -> bool:
    """Whether the database answers and takes a committed write (a full disk or a
    read-only file answers reads but not writes: not ready)."""
    from tortoise.exceptions import IntegrityError

    from compliance.models import JobLease

    now = datetime.now(UTC)
    try:
        if not await JobLease.filter(name=READINESS_PROBE).update(until=now):
            # another process may write it first: that proves the write path too
            with contextlib.suppress(IntegrityError):
                await JobLease.create(name=READINESS_PROBE, holder=READINESS_PROBE, until=now)
    except Exception:
        return False
    return True


def _key_environ(settings: Settings) -> dict[str, str]:
    environ = {"LEADVAULT_MASTER_KEY": settings.master_key.reveal()}
    if settings.master_key_file is not None:
        environ["LEADVAULT_MASTER_KEY_FILE"] = str(settings.master_key_file)
    return environ


def key_file_of(settings: Settings) -> Path | None:
    """The key file the master keys come from, or None when they come from the environment."""
    from crypto.keyring import key_file_path

    return key_file_path(_key_environ(settings), settings.data_dir)


async def open_vault(settings: Settings) -> str:
    """Load the keyring, check it against the key store, and install the vault.

    Production refuses to start without a master key, or with one that does not match the
    key store; development creates a key file. Returns a line saying where the keys came
    from (never a key).
    """
    from crypto.keyring import load_keyring
    from crypto.keystore import SubjectKeyStore
    from crypto.vault import Vault, install_vault

    keyring, message = load_keyring(
        _key_environ(settings), settings.data_dir, development=settings.is_dev
    )
    keystore = SubjectKeyStore(keyring, KEYSTORE_CONNECTION)
    await keystore.ensure_schema()
    await keystore.verify_master_keys()
    install_vault(Vault(keyring, keystore))
    return message
