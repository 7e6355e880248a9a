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

import sqlite3

from tortoise.backends.base.client import NestedTransactionContext, TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
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

    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


class ImmediateSqliteClient(SqliteClient):
    """Tortoise's SQLite client whose transactions begin with ``BEGIN IMMEDIATE``."""

    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(ImmediateTransaction(self), self._lock)


client_class = ImmediateSqliteClient
"""What Tortoise instantiates for a connection whose ``engine`` is this module."""
