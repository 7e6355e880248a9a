"""The processes :mod:`benchmarks.load` runs: a prepared database (fresh SQLite files, or
fresh databases on a PostgreSQL server), ``leadvault serve --workers N`` on a free loopback
port, and optionally ``leadvault worker`` processes; all stopped with SIGTERM as an
operator would."""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

from benchmarks.load_client import Credentials
from server.settings import Settings

MASTER_KEY = base64.b64encode(bytes(range(32))).decode()
STARTUP_SECONDS = 90
STOP_SECONDS = 40


@dataclass
class Target:
    settings: Settings
    env: dict[str, str]
    creds: Credentials
    workdir: Path
    created: tuple[str, ...] = ()
    """PostgreSQL databases made for this run (dropped by :func:`release`)."""
    admin_url: str | None = None

    @property
    def dialect(self) -> str:
        return "sqlite" if self.admin_url is None else "postgres"


def on_server(url: str, database: str) -> str:
    """``url`` with its database replaced by ``database``."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, ""))


async def on_postgres(url: str, statement: str) -> None:
    """Run ``statement`` on the PostgreSQL server of ``url`` (creating or dropping a
    database)."""
    import asyncpg

    connection = await asyncpg.connect(url.replace("asyncpg://", "postgres://", 1))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def prepare(database_url: str | None, leads: int) -> Target:
    """Migrate and seed a fresh database, and make the credentials the clients use."""
    from identity import api_keys
    from identity.models import StaffUser
    from identity.roles import Role
    from identity.scopes import ApiScope
    from leads.demo import DemoSeeder
    from leads.models import Lead
    from server.db import close_db, init_db, migrate, open_vault

    workdir = Path(tempfile.mkdtemp(prefix="leadvault-load-"))
    created: tuple[str, ...] = ()
    if database_url:
        name = f"leadvault_load_{uuid.uuid4().hex[:8]}"
        created = (name, f"{name}_keys")
        for database in created:
            await on_postgres(database_url, f'CREATE DATABASE "{database}"')
        main, keys = (on_server(database_url, database) for database in created)
    else:
        main, keys = f"sqlite://{workdir / 'load.sqlite3'}", f"sqlite://{workdir / 'keys.sqlite3'}"
    env = {
        "LEADVAULT_ENV": "prod",
        "LEADVAULT_DATA_DIR": str(workdir),
        "LEADVAULT_DATABASE_URL": main,
        "LEADVAULT_KEYSTORE_URL": keys,
        "LEADVAULT_MASTER_KEY": MASTER_KEY,
        "LEADVAULT_RATE_LIMIT_REQUESTS": str(10**6),
        "LEADVAULT_RATE_LIMIT_COST": str(10**9),
        "LEADVAULT_LOG_LEVEL": "WARNING",
    }
    settings = Settings.from_env(env)
    await migrate(settings)
    await close_db()
    await init_db(settings)
    try:
        await open_vault(settings)
        await DemoSeeder(7, datetime.now(UTC).date()).seed(leads)
        if database_url is None:  # start every configuration from a checkpointed file
            from tortoise import connections

            await connections.get("default").execute_script("PRAGMA wal_checkpoint(TRUNCATE)")
        manager = await StaffUser.filter(role=Role.SALES_MANAGER).order_by("email").first()
        assert manager is not None
        from benchmarks.setup import active_session

        session = await active_session(Role.SALES_MANAGER)
        ids = await Lead.filter(team_id=manager.team_id).limit(500).values_list("id", flat=True)
        issued = await api_keys.issue(
            "load benchmark",
            [ApiScope.LEADS_CAPTURE, ApiScope.ACTIVITIES_RECORD],
            None,
            datetime.now(UTC),
        )
    finally:
        await close_db()
    creds = Credentials(session, issued.token, tuple(str(i) for i in ids))
    return Target(settings, env, creds, workdir, created, database_url)


async def release(target: Target, *, keep_files: bool = False) -> None:
    """Drop the databases made for the run; remove its files unless they are wanted (the
    process logs, after a failure)."""
    if target.admin_url:
        for database in target.created:
            await on_postgres(
                target.admin_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'
            )
    if keep_files:
        print(f"logs and databases kept in {target.workdir}")
    else:
        shutil.rmtree(target.workdir, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _start(arguments: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "server.cli", *arguments],
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
        )


JOB_ENV = {
    "LEADVAULT_JOBS_POLL_SECONDS": "1",
    "LEADVAULT_SCORING_JOB_SECONDS": "1",
    "LEADVAULT_OUTBOX_INTERVAL_SECONDS": "1",
}


async def _ready(port: int, processes: list[subprocess.Popen[bytes]], log: Path) -> None:
    deadline = asyncio.get_running_loop().time() + STARTUP_SECONDS
    async with httpx.AsyncClient() as http:
        while asyncio.get_running_loop().time() < deadline:
            for process in processes:
                if process.poll() is not None:
                    raise RuntimeError(f"a process exited early; see {log}")
            try:
                if (await http.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"the server was not ready within {STARTUP_SECONDS} s; see {log}")


def _stop(processes: list[subprocess.Popen[bytes]]) -> list[int | None]:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    codes: list[int | None] = []
    for process in processes:
        try:
            codes.append(process.wait(timeout=STOP_SECONDS))
        except subprocess.TimeoutExpired:
            process.kill()
            codes.append(process.wait())
    return codes


@asynccontextmanager
async def serving(target: Target, workers: int, job_workers: int) -> AsyncIterator[int]:
    """``serve --workers N`` (and ``job_workers`` × ``worker``) on a free port; yields the
    port; stops everything with SIGTERM and checks each process exited cleanly."""
    port = free_port()
    log = target.workdir / f"serve-{port}.log"
    env = {**target.env, **JOB_ENV, "LEADVAULT_OUTBOX_DIR": str(target.workdir / "outbox")}
    processes = [_start(["serve", "--workers", str(workers), "--port", str(port)], env, log)]
    processes += [_start(["worker"], env, log) for _ in range(job_workers)]
    try:
        await _ready(port, processes, log)
        yield port
    finally:
        codes = _stop(processes)
    # a single process re-raises the SIGTERM it handled once it has shut down gracefully
    if any(code not in (0, -signal.SIGTERM) for code in codes):
        raise RuntimeError(f"a process did not stop cleanly ({codes}); see {log}")
