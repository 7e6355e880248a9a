"""Real processes: ``serve --workers 2`` replaces a killed worker and stops cleanly on
SIGTERM; two ``leadvault worker`` processes never run one job twice at once; the bounded
load benchmark (two API workers, two job workers) loses nothing."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from benchmarks.load_processes import free_port, on_postgres, on_server
from server.db import dialect_of
from tests.conftest import _test_database_url

MASTER_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
WAIT = 90.0


@pytest.fixture
async def environment(tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    """A migrated database of its own (SQLite files, or fresh PostgreSQL databases on the
    test server) and the settings of a production deployment."""
    created: list[str] = []
    if dialect_of(_test_database_url()) == "postgres":
        name = f"leadvault_proc_{uuid.uuid4().hex[:8]}"
        created = [name, f"{name}_keys"]
        for database in created:
            await on_postgres(_test_database_url(), f'CREATE DATABASE "{database}"')
        main, keys = (on_server(_test_database_url(), d) for d in created)
    else:
        main, keys = f"sqlite://{tmp_path / 'main.sqlite3'}", f"sqlite://{tmp_path / 'k.sqlite3'}"
    env = {
        **os.environ,
        "LEADVAULT_ENV": "prod",
        "LEADVAULT_DATA_DIR": str(tmp_path),
        "LEADVAULT_DATABASE_URL": main,
        "LEADVAULT_KEYSTORE_URL": keys,
        "LEADVAULT_MASTER_KEY": MASTER_KEY,
        "LEADVAULT_SHUTDOWN_TIMEOUT": "10",
        "LEADVAULT_LOG_LEVEL": "WARNING",
    }
    migrated = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server.cli", "migrate", env=env, stdout=subprocess.DEVNULL
    )
    assert await migrated.wait() == 0
    yield env
    for database in created:
        await on_postgres(
            _test_database_url(), f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'
        )


def _children(pid: int) -> set[int]:
    """The worker processes of the server ``pid`` (not the resource tracker beside them)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    if not path.exists():
        return set()
    workers = set()
    for child in path.read_text().split():
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"resource_tracker" not in command:
            workers.add(int(child))
    return workers


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def _until(condition: object, what: str) -> None:
    """Poll ``condition`` (an async callable) every 0.2 s for at most :data:`WAIT` s."""
    deadline = asyncio.get_running_loop().time() + WAIT
    while asyncio.get_running_loop().time() < deadline:
        if await condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"not within {WAIT} s: {what}")


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
async def test_serve_replaces_a_killed_worker_and_stops_cleanly(
    environment: dict[str, str],
) -> None:
    port = free_port()
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server.cli",
        "serve",
        "--workers",
        "2",
        "--port",
        str(port),
        env=environment,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base) as http:

            async def ready() -> bool:
                try:
                    return (await http.get("/readyz")).status_code == 200
                except httpx.TransportError:
                    return False

            await _until(ready, "the server answers")
            await _until(lambda: _async(len(_children(server.pid)) == 2), "two workers")
            first = _children(server.pid)
            victim = min(first)
            os.kill(victim, signal.SIGKILL)

            async def replaced() -> bool:
                now = _children(server.pid)
                return len(now) == 2 and victim not in now

            await _until(replaced, "the killed worker is replaced")
            await _until(ready, "the server answers again")
            workers = _children(server.pid)
        server.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(server.wait(), timeout=40) == 0
        assert not any(_alive(pid) for pid in workers)
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()


async def _async(value: bool) -> bool:
    return value


async def test_two_job_workers_never_run_a_job_twice_at_once(
    environment: dict[str, str], tmp_path: Path
) -> None:
    env = {
        **environment,
        "LEADVAULT_JOBS_POLL_SECONDS": "1",
        "LEADVAULT_SCORING_JOB_SECONDS": "1",
        "LEADVAULT_OUTBOX_DIR": str(tmp_path / "outbox"),
        "LEADVAULT_OUTBOX_INTERVAL_SECONDS": "1",
    }
    workers = [
        await asyncio.create_subprocess_exec(sys.executable, "-m", "server.cli", "worker", env=env)
        for _ in range(2)
    ]
    runs_file = tmp_path / "runs.json"

    async def enough_runs() -> bool:
        await _dump_runs(env, runs_file)
        runs = json.loads(runs_file.read_bytes())
        return sum(1 for run in runs if run["job"] == "scoring" and run["finished"]) >= 4

    try:
        await _until(enough_runs, "four finished scoring runs")
    finally:
        for worker in workers:
            if worker.returncode is None:  # one that died on its own is reported below
                worker.send_signal(signal.SIGTERM)
        codes = [await asyncio.wait_for(worker.wait(), timeout=40) for worker in workers]
    assert codes == [0, 0]
    await _dump_runs(env, runs_file)
    runs = json.loads(runs_file.read_text())
    by_job: dict[str, list[dict[str, str]]] = {}
    for run in runs:
        by_job.setdefault(run["job"], []).append(run)
    assert {"scoring", "outbox", "consent", "cold", "erasure", "audit-checkpoint"} <= set(by_job)
    for job, job_runs in by_job.items():
        ordered = sorted(job_runs, key=lambda run: run["started"])
        for before, after in itertools.pairwise(ordered):
            assert before["finished"] is not None, (job, before)
            assert after["started"] >= before["finished"], f"{job} ran twice at once"
    assert all(run["outcome"] in ("succeeded", "stopped") for run in runs), runs
    assert all(run["audited"] for run in runs if run["finished"])
    status = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server.cli", "jobs", "status", env=env, stdout=subprocess.PIPE
    )
    printed = (await asyncio.wait_for(status.communicate(), timeout=60))[0].decode()
    assert status.returncode == 0
    for job in by_job:
        assert job in printed


async def _dump_runs(env: dict[str, str], into: Path) -> None:
    dump = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.server.job_runs", str(into), env=env
    )
    assert await dump.wait() == 0


async def test_the_bounded_load_run_loses_nothing(tmp_path: Path) -> None:
    report = tmp_path / "load.json"
    arguments = ["-m", "benchmarks.load", "--short", "--json", str(report)]
    if dialect_of(_test_database_url()) == "postgres":
        arguments += ["--database-url", _test_database_url()]
    run = await asyncio.create_subprocess_exec(
        sys.executable, *arguments, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(run.communicate(), timeout=300)

    assert run.returncode == 0, output.decode()
    (outcome,) = json.loads(report.read_text())
    assert (outcome["workers"], outcome["errors"]) == (2, {})
    checks = outcome["checks"]
    assert checks["audit_verified"], checks
    assert checks["problems"] == []
    assert checks["reads_checked"] > 0
    assert checks["writes_checked"] > 0
    assert checks["job_runs_checked"] > 0
