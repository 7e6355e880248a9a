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
