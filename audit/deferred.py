"""Events recorded inside a transaction are written when it commits.

Writing an event takes the chain's head (a row lock on PostgreSQL; SQLite's write lock is
held from the transaction's start anyway) until the transaction ends. Taken at the
``record`` call, the head would stay locked through everything the transaction does after
it (a rescoring, a refresh, the event loop's other work in between), and every other
append in every process would wait that long. So a transaction on one of the server's
database clients keeps its events and writes them just before its commit: the change and
its events still commit together or not at all, in the order they were recorded, and an
event recorded inside a savepoint that is rolled back is dropped with it.

If writing the events fails, the transaction is rolled back and the error propagates: no
change commits without its events.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from audit.models import AuditEvent
from core import commit_hooks

Write = Callable[[Sequence[AuditEvent], datetime], Awaitable[None]]

_writer: Write | None = None


def install_writer(write: Write) -> None:
    """How pending events are numbered, chained and inserted (:mod:`audit.chain`)."""
    global _writer
    _writer = write


def _root(connection: Any) -> Any:
    while getattr(connection, "defers_audit", False) and getattr(
        getattr(connection, "_parent", None), "defers_audit", False
    ):
        connection = connection._parent
    return connection


def pending(connection: Any) -> list[tuple[AuditEvent, datetime]] | None:
    """The events waiting for ``connection``'s transaction to commit, or None when it does
    not defer them."""
    if not getattr(connection, "defers_audit", False):
        return None
    root = _root(connection)
    if not hasattr(root, "audit_pending"):
        root.audit_pending = []
    waiting: list[tuple[AuditEvent, datetime]] = root.audit_pending
    return waiting


def mark(connection: Any) -> int:
    """Where a savepoint begins in the pending list."""
    waiting = pending(connection)
    return 0 if waiting is None else len(waiting)


def drop_after(connection: Any, position: int) -> None:
    """A savepoint rolled back: forget what was recorded inside it."""
    waiting = pending(connection)
    if waiting is not None:
        del waiting[position:]


async def flush(connection: Any) -> None:
    """Write the pending events (called by the transaction, just before it commits)."""
    waiting = pending(connection)
    if not waiting:
        return
    events = [event for event, _ in waiting]
    now = max(moment for _, moment in waiting)
    waiting.clear()
    assert _writer is not None, "audit.chain installs the writer"
    await _writer(events, now)


class DefersAudit:
    """Mixin for a database client's transaction wrapper: write the transaction's audit
    events just before it commits, and forget those of a rolled-back savepoint."""

    defers_audit = True
    _savepoint_mark = 0

    async def commit(self) -> None:
        nested = getattr(getattr(self, "_parent", None), "defers_audit", False)
        if not nested:  # a savepoint's release leaves its events to the outer commit
            try:
                await flush(self)
            except BaseException:
                await self.rollback()  # type: ignore[attr-defined]
                raise
        await super().commit()  # type: ignore[misc]
        if not nested:
            commit_hooks.committed(self)

    async def savepoint(self) -> None:
        self._savepoint_mark = mark(self)
        await super().savepoint()  # type: ignore[misc]

    async def savepoint_rollback(self) -> None:
        drop_after(self, self._savepoint_mark)
        await super().savepoint_rollback()  # type: ignore[misc]
