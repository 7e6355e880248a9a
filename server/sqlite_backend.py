"""The embedded SQLite connection, with transactions that take the write lock at their
start.

SQLite lets one connection write at a time. A transaction begun with a plain ``BEGIN``
takes the write lock only at its first write; if it read first and another process
committed in between, SQLite cannot let it write on its stale snapshot and answers
"database is locked" at once, without waiting out the busy timeout. Every transaction here
therefore begins with ``BEGIN IMMEDIATE``: it waits (up to :data:`BUSY_TIMEOUT_MS`) for the
lock before it reads anything, so a read-then-write transaction in one process can never be
undercut by a commit from another. Single statements outside a transaction (reads, and
each autocommitted write) wait for the lock the same way.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite
from tortoise.backends.base.client import NestedTransactionContext, TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
    translate_exceptions,
)
from tortoise.connection import get_connections
from tortoise.exceptions import TransactionManagementError

from audit.deferred import DefersAudit

BUSY_TIMEOUT_MS = 10_000
"""How long a statement or a transaction's start waits for another connection's write lock
before giving up with "database is locked"."""


class ImmediateTransaction(DefersAudit, SqliteTransactionWrapper):
    """A transaction on the shared connection that holds the write lock from its start
    (and writes its audit events just before it commits: :mod:`audit.deferred`)."""

    def _in_transaction(self) -> TransactionContext:
        return NestedTransactionContext(ImmediateTransaction(self))

    @property
    def _turns(self) -> _WriterTurns:
        turns: _WriterTurns = self._parent.writer_turns  # type: ignore[attr-defined]
        return turns

    async def begin(self) -> None:
        await self._turns.take()
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            self._turns.give_back()
            raise TransactionManagementError(exc) from exc
        except BaseException:  # cancelled (a request abandoned, Ctrl+C): not our turn now
            self._turns.give_back()
            raise

    async def commit(self) -> None:
        try:
            await super().commit()
        finally:  # a failed commit must not keep every other writer waiting either
            self._turns.give_back()

    async def rollback(self) -> None:
        try:
            await super().rollback()
        finally:
            self._turns.give_back()


class _WriterTurns:
    """Whose turn it is to write, across processes: an exclusive ``flock`` on a file beside
    the database, taken (in a thread) before ``BEGIN IMMEDIATE`` and let go at commit or
    rollback. SQLite's own wait for the write lock polls with sleeps of up to 100 ms, so
    under contention the lock often sits free while every waiter sleeps; the kernel hands
    a released ``flock`` to the next waiter at once."""

    def __init__(self, database: str) -> None:
        self.path = None if database.startswith(":memory:") else f"{database}-writer.lock"
        self.fd: int | None = None
        self.held = False
        self._abandoned: asyncio.Future[None] | None = None

    async def take(self) -> None:
        if self.path is None:  # an in-memory database has no other process to wait for
            return
        if self._abandoned is not None:  # a cancelled wait's thread may yet take the lock
            await asyncio.wait([self._abandoned])
        if self.fd is None:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        waiting = asyncio.ensure_future(asyncio.to_thread(fcntl.flock, self.fd, fcntl.LOCK_EX))
        try:
            await asyncio.shield(waiting)
        except asyncio.CancelledError:
            # The thread still waits for the lock and will get it: let it go at once then,
            # or every writer in every process would wait for this one forever.
            self._abandoned = waiting
            waiting.add_done_callback(self._let_go_if_taken)
            raise
        self.held = True

    def _let_go_if_taken(self, waiting: asyncio.Future[None]) -> None:
        if self._abandoned is waiting:
            self._abandoned = None
        if self.fd is not None and not waiting.cancelled() and waiting.exception() is None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)

    def give_back(self) -> None:
        if self.held and self.fd is not None:
            self.held = False
            fcntl.flock(self.fd, fcntl.LOCK_UN)


class _TransactionContext(SqliteTransactionContext):
    """Tortoise's context, but a transaction whose start fails or is cancelled leaves
    nothing behind: the connection in use is the shared one again and the next transaction
    may start (otherwise every later query, and closing, would go to a dead transaction)."""

    async def __aenter__(self) -> Any:
        await self._trxlock.acquire()
        try:
            await self.ensure_connection()
            self.token = get_connections().set(self.connection_name, self.connection)
            try:
                await self.connection.begin()
            except BaseException:
                get_connections().reset(self.token)
                raise
        except BaseException:
            self._trxlock.release()
            raise
        return self.connection


def reads_only(query: str) -> bool:
    """A statement that only reads (a ``SELECT``; anything else may write)."""
    return query.lstrip()[:6].upper() == "SELECT"


class ImmediateSqliteClient(SqliteClient):
    """Tortoise's SQLite client whose transactions begin with ``BEGIN IMMEDIATE``, each
    after its turn among the database's writers.

    Reads outside a transaction go to a second, read-only connection. The shared one is
    held by whichever transaction is under way (and, before that, while it waits for its
    turn among writers), so a read there would wait for all of it; in WAL mode a reader
    on its own connection sees every committed write at once and waits for nothing. A read
    inside a transaction stays on the transaction's connection and sees its writes."""

    def __init__(self, file_path: str, **kwargs: Any) -> None:
        super().__init__(file_path, **kwargs)
        self.writer_turns = _WriterTurns(file_path)
        self._reader: aiosqlite.Connection | None = None
        self._opening_reader = asyncio.Lock()
        self.separate_reads = not file_path.startswith((":memory:", "file::memory:"))

    def _in_transaction(self) -> TransactionContext:
        return _TransactionContext(ImmediateTransaction(self), self._lock)

    async def _reading(self) -> aiosqlite.Connection:
        if self._reader is not None:
            return self._reader
        async with self._opening_reader:
            if self._reader is None:
                reader = await aiosqlite.connect(self.filename, isolation_level=None)
                reader._conn.row_factory = sqlite3.Row
                timeout = int(self.pragmas.get("busy_timeout", BUSY_TIMEOUT_MS))
                for pragma in (f"busy_timeout={timeout}", "query_only=ON"):
                    await (await reader.execute(f"PRAGMA {pragma}")).close()
                self._reader = reader
            return self._reader

    def _separate(self, query: str) -> bool:
        return self.separate_reads and reads_only(query)

    async def _read(self, query: str, values: list[Any] | None) -> list[sqlite3.Row]:
        """``query`` on the read connection (logged as the client logs any statement)."""
        query = query.replace("\x00", "'||CHAR(0)||'")
        reader = await self._reading()
        self.log.debug("%s: %s", query, values)
        return list(await reader.execute_fetchall(query, values))

    @translate_exceptions
    async def execute_query(
        self, query: str, values: list[Any] | None = None
    ) -> tuple[int, Sequence[dict[str, Any]]]:
        if not self._separate(query):
            return await super().execute_query(query, values)
        rows = await self._read(query, values)
        return len(rows), rows  # type: ignore[return-value]

    @translate_exceptions
    async def execute_query_dict(
        self, query: str, values: list[Any] | None = None
    ) -> list[dict[str, Any]]:
        if not self._separate(query):
            return await super().execute_query_dict(query, values)
        return [dict(row) for row in await self._read(query, values)]

    async def close(self) -> None:
        async with self._opening_reader:
            if self._reader is not None:
                reader, self._reader = self._reader, None
                await reader.close()
        await super().close()


client_class = ImmediateSqliteClient
"""What Tortoise instantiates for a connection whose ``engine`` is this module."""
