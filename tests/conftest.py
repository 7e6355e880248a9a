"""Test wiring. The suite runs against SQLite by default and against PostgreSQL when
``LEADVAULT_TEST_DATABASE_URL`` names one (CI does both). The database is migrated once per
session with the project's own migrations; every test starts from empty tables."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest
import tortoise
from tortoise import connections

from core import stopping
from crypto.keyring import Keyring
from crypto.keystore import SubjectKeyStore
from crypto.vault import Vault, install_vault
from identity.rate_limit import COUNTERS_CONNECTION
from identity.roles import Role
from server.app import create_app
from server.db import close_db, dialect_of, init_db, migrate
from server.settings import Environment, Secret, Settings
from tests import builders

TEST_DATABASE_URL_ENV = "LEADVAULT_TEST_DATABASE_URL"
_session_dirs: dict[int, Path] = {}


def session_dir() -> Path:
    """This process's own folder for the SQLite files and data: a run forked from another
    (mutation testing, parallel workers) never shares the parent's database."""
    pid = os.getpid()
    if pid not in _session_dirs:
        _session_dirs[pid] = Path(tempfile.mkdtemp(prefix=f"leadvault-tests-{pid}-"))
    return _session_dirs[pid]


def _test_database_url() -> str:
    return os.environ.get(TEST_DATABASE_URL_ENV) or f"sqlite://{session_dir() / 'test.sqlite3'}"


def _test_keystore_url() -> str:
    """The key store: its own SQLite file, or (on PostgreSQL runs) the same server database,
    where its tables are separate from the lead tables."""
    url = _test_database_url()
    return url if dialect_of(url) == "postgres" else f"sqlite://{session_dir() / 'keys.sqlite3'}"


def make_settings(env: Environment = Environment.DEV, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "env": env,
        "data_dir": session_dir(),
        "database_url": Secret(_test_database_url()),
        "keystore_url": Secret(_test_keystore_url()),
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


async def _reset_postgres_schema(url: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def settings() -> Settings:
    return make_settings()


SQLITE_FILES = ("test.sqlite3", "keys.sqlite3")


def _template_dir() -> Path:
    """Where a freshly migrated pair of SQLite files is kept, named by the migrations and the
    ORM version that made it, so a stale copy is never used."""
    import migrations  # where the code runs them from (a mutation run's copy has none)

    folder = next(Path(p) for p in migrations.__path__ if Path(p, "0001_initial.py").exists())
    digest = hashlib.sha256(tortoise.__version__.encode())
    for path in sorted(folder.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return Path(tempfile.gettempdir()) / f"leadvault-test-template-{digest.hexdigest()[:16]}"


def _copy_template() -> bool:
    template = _template_dir()
    if not all((template / name).exists() for name in SQLITE_FILES):
        return False
    for name in SQLITE_FILES:
        shutil.copyfile(template / name, session_dir() / name)
    return True


def _save_template() -> None:
    staging = Path(tempfile.mkdtemp(prefix="leadvault-test-template-"))
    for name in SQLITE_FILES:
        shutil.copyfile(session_dir() / name, staging / name)
    try:
        staging.rename(_template_dir())
    except OSError:  # another process made it first
        shutil.rmtree(staging, ignore_errors=True)


async def _migrate_sqlite(settings: Settings) -> None:
    """Migrate once per machine and copy the result after that: a forked run (mutation
    testing starts one per mutant) then costs a file copy, not the whole migration."""
    if _copy_template():
        return
    await migrate(settings)
    await close_db()
    _save_template()


@pytest.fixture(scope="session", autouse=True)
async def database(settings: Settings) -> AsyncIterator[str]:
    url = settings.database_url.reveal()
    if dialect_of(url) == "postgres":
        await _reset_postgres_schema(url)
        await migrate(settings)
        await close_db()
    else:
        await _migrate_sqlite(settings)
    await init_db(settings)
    keystore = SubjectKeyStore(TEST_KEYRING)
    await keystore.verify_master_keys()
    install_vault(Vault(TEST_KEYRING, keystore))
    yield dialect_of(url)
    await close_db()


TABLES_CHILDREN_FIRST = (
    "webhook_attempt",
    "webhook_delivery",
    "webhook_endpoint",
    "domain_event",
    "event_stream",
    "dsr_export",
    "dsr_subject",
    "dsr_request",
    "legal_hold",
    "job_lease",
    "job_run",
    "score_history",
    "scoring_run",
    "scoring_model",
    "consent_event",
    "consent_state",
    "consent_confirmation",
    "suppressed_contact",
    "outbox_message",
    "audit_event",
    "audit_subject",
    "audit_head",
    "audit_checkpoint",
    "signing_key",
    "possible_duplicate",
    "auth_throttle",
    "rate_limit_counter",
    "break_glass_grant",
    "recovery_code",
    "staff_session",
    "api_key",
    "task",
    "contact_index",
    "activity",
    "stage_change",
    "lead",
    "campaign",
    "staff_user",
    "team",
)
TEST_KEYRING = Keyring({1: bytes(range(32))})
KEYSTORE_TABLES = ("subject_key", "master_key_check")


@pytest.fixture(autouse=True)
async def empty_tables(database: str) -> None:
    conn, keystore = connections.get("default"), connections.get("keystore")
    if database == "postgres":
        await conn.execute_script(
            f"TRUNCATE {', '.join(TABLES_CHILDREN_FIRST)} RESTART IDENTITY CASCADE"
        )
    else:
        for table in TABLES_CHILDREN_FIRST:
            await conn.execute_script(f"DELETE FROM {table}")
    for table in KEYSTORE_TABLES:
        await keystore.execute_script(f"DELETE FROM {table}")
    if COUNTERS_CONNECTION in connections.db_config:  # SQLite keeps them in their own file
        await connections.get(COUNTERS_CONNECTION).execute_script("DELETE FROM rate_limit_counter")
    builders.working_team_id = None
    stopping.reset()  # a test that stopped a scheduler leaves the next one free to run jobs


@asynccontextmanager
async def app_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for an app built from ``settings`` on the already open database."""
    app = create_app(settings, manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def anonymous_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client with no credentials: it may only sign in."""
    async with app_client(settings) as http:
        yield http


@pytest.fixture
async def client(anonymous_client: httpx.AsyncClient) -> httpx.AsyncClient:
    """A client signed in (password and MFA passed) as the sales manager of the working
    team: leads built without a team belong to that team, so this client sees them in
    full."""
    from tests import builders

    team = await builders.a_team()
    builders.working_team_id = team.id
    user = await builders.a_staff_user(Role.SALES_MANAGER, team)
    anonymous_client.headers["Authorization"] = f"Bearer {await builders.session_token(user)}"
    return anonymous_client


@pytest.fixture
def dsr_purposes() -> Iterator[builders.PurposeForTests]:
    """A data-subject-request purpose provider the test fills in."""
    from compliance.access.policy import DSR
    from compliance.access.purpose import (
        register_purpose_provider,
        unregister_purpose_provider,
    )

    provider = builders.PurposeForTests()
    previous = register_purpose_provider(provider)
    yield provider
    unregister_purpose_provider(DSR)
    if previous is not None:
        register_purpose_provider(previous)
