"""Several processes writing to the embedded SQLite database: a transaction takes the write
lock at its start, so one that reads first is never refused because another process
committed in between."""

from __future__ import annotations

import asyncio
import sqlite3
import sys

import pytest
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.transactions import in_transaction

from identity.models import Team
from server.db import dialect_of
from tests.conftest import _test_database_url

pytestmark = pytest.mark.skipif(
    dialect_of(_test_database_url()) != "sqlite", reason="the embedded database only"
)


def _file() -> str:
    return str(expand_db_url(_test_database_url())["credentials"]["file_path"])


async def test_a_transaction_that_has_only_read_already_holds_the_write_lock() -> None:
    other = sqlite3.connect(_file(), timeout=0, isolation_level=None)
    try:
        async with in_transaction("default"):
            await Team.all().count()
            with pytest.raises(sqlite3.OperationalError, match="database is locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # free again once the transaction ends
        other.execute("ROLLBACK")
    finally:
        other.close()


async def test_two_processes_reading_then_writing_lose_nothing() -> None:
    writers, each = 2, 150
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.server.sqlite_writer",
            _test_database_url(),
            f"writer{w}",
            str(each),
            stdout=asyncio.subprocess.PIPE,
        )
        for w in range(writers)
    ]
    outputs = await asyncio.gather(*(p.communicate() for p in processes))

    assert [p.returncode for p in processes] == [0] * writers
    assert [out.decode().strip() for out, _ in outputs] == ["0"] * writers
    for w in range(writers):
        assert await Team.filter(name__startswith=f"writer{w}-").count() == each


async def test_writers_take_turns_through_a_file_lock_held_for_the_transaction() -> None:
    import fcntl
    import os

    lock_file = f"{_file()}-writer.lock"
    async with in_transaction("default"):
        await Team.create(name="turn-holder")
        other = os.open(lock_file, os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):  # another process would wait for its turn
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(other)
    other = os.open(lock_file, os.O_RDWR)
    try:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # its turn, once the commit is done
        fcntl.flock(other, fcntl.LOCK_UN)
    finally:
        os.close(other)


async def test_a_transaction_cancelled_while_waiting_for_its_turn_leaves_nothing_held(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ctrl+C or an abandoned request can cancel a transaction while it waits for another
    process's turn: the connection must be the shared one again, the next transaction must
    start, and the turn its waiting thread gets later must be let go."""
    import fcntl
    import os

    from tortoise.connection import get_connections

    from server import sqlite_backend

    waiting = asyncio.Event()
    take = sqlite_backend._WriterTurns.take

    async def noted_take(turns: sqlite_backend._WriterTurns) -> None:
        waiting.set()
        await take(turns)

    monkeypatch.setattr(sqlite_backend._WriterTurns, "take", noted_take)
    in_use_after: list[object] = []

    async def abandoned() -> None:
        try:
            async with in_transaction("default"):
                await Team.create(name="never-written")
        finally:
            in_use_after.append(get_connections().get("default"))

    other = os.open(f"{_file()}-writer.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(other, fcntl.LOCK_EX)  # another process's turn
        task = asyncio.create_task(abandoned())
        await waiting.wait()  # the task now waits in a thread for the lock
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        fcntl.flock(other, fcntl.LOCK_UN)  # the abandoned thread gets the turn now

        assert isinstance(in_use_after[0], sqlite_backend.ImmediateSqliteClient)
        async with asyncio.timeout(10):  # the next transaction starts and commits
            async with in_transaction("default"):
                await Team.create(name="written")
        deadline = asyncio.get_running_loop().time() + 10
        while True:  # and another process gets its turn: nothing holds the lock
            try:
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                assert asyncio.get_running_loop().time() < deadline, "the turn was never let go"
                await asyncio.sleep(0.01)
        fcntl.flock(other, fcntl.LOCK_UN)
    finally:
        os.close(other)
    assert await Team.filter(name="never-written").count() == 0
    assert await Team.filter(name="written").count() == 1
