"""``leadvault demo`` as a newcomer starts it, in a process of its own on a free port, and
``leadvault dev token`` against it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

from benchmarks.load_processes import free_port

STARTUP_SECONDS = 120
TEST_DATABASE_URL_ENV = "LEADVAULT_TEST_DATABASE_URL"


@dataclass(frozen=True)
class Demo:
    port: int
    environment: dict[str, str]
    log: Path
    """What the demo printed (its banner lists the demo sign-ins)."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    def leadvault(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "server.cli", *args],
            capture_output=True,
            text=True,
            env={**self.environment, **env},
            timeout=120,
            check=False,
        )


def _on_server(url: str, statement: str) -> None:
    """Run one statement on the PostgreSQL server of ``url`` (in a thread of its own, so it
    works whether or not an event loop is running here)."""

    async def run() -> None:
        connection = await asyncpg.connect(url)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, run()).result(timeout=60)


@contextmanager
def demo_database() -> Iterator[str | None]:
    """On PostgreSQL test runs, a database of the demo's own on the same server, created
    and dropped here (the tests empty the test database between tests); on SQLite, None:
    the demo uses its embedded default."""
    url = os.environ.get(TEST_DATABASE_URL_ENV, "")
    if not url.startswith("postgres"):
        yield None
        return
    name = f"leadvault_demo_{os.getpid()}_{free_port()}"
    _on_server(url, f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
    finally:
        _on_server(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def running_demo(folder: Path, leads: int = 40, **settings: str) -> Iterator[Demo]:
    """``settings``: more ``LEADVAULT_*`` variables for the demo (without the prefix)."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LEADVAULT_")}
    environment.update(
        {"LEADVAULT_DATA_DIR": str(folder), "LEADVAULT_ENV": "dev", "LEADVAULT_PORT": str(port)}
    )
    environment.update({f"LEADVAULT_{name.upper()}": value for name, value in settings.items()})
    with demo_database() as database_url:
        if database_url is not None:
            environment["LEADVAULT_DATABASE_URL"] = database_url
        with _started(folder, leads, port, environment) as demo:
            yield demo


@contextmanager
def _started(folder: Path, leads: int, port: int, environment: dict[str, str]) -> Iterator[Demo]:
    log = folder.with_suffix(".log")
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "demo", "--leads", str(leads)],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:  # bounded by the deadline
            if process.poll() is not None:
                raise RuntimeError(f"the demo exited early: {log.read_text()}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the demo did not start in time: {log.read_text()}")
            time.sleep(0.2)
        yield Demo(port, environment, log)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
