"""Work to do once a transaction has committed (never when it rolls back).

Announcing domain events to this process's subscribers must wait for their commit: a
subscriber that fetched an event before then would not find it. Inside a transaction,
:func:`after_commit` keeps the ids on the outermost transaction, which hands them on when it
commits (the database clients call :func:`committed`); outside one, the write has already
committed and they are handed on at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from tortoise.backends.base.client import TransactionalDBClient

Listener = Callable[[Sequence[str]], None]
_listeners: list[Listener] = []


def listen(listener: Listener) -> Callable[[], None]:
    """Call ``listener`` with the ids of each commit; returns how to stop."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener) if listener in _listeners else None


def _root(connection: Any) -> Any:
    while isinstance(getattr(connection, "_parent", None), TransactionalDBClient):
        connection = connection._parent
    return connection


def after_commit(connection: Any, ids: Sequence[str]) -> None:
    if not isinstance(connection, TransactionalDBClient):
        _hand_on(ids)
        return
    root = _root(connection)
    root.__dict__.setdefault("committed_ids", []).extend(ids)


def committed(connection: Any) -> None:
    """Called by a transaction once its commit succeeded."""
    if _root(connection) is not connection:
        return
    ids = connection.__dict__.pop("committed_ids", None)
    if ids:
        _hand_on(ids)


def _hand_on(ids: Sequence[str]) -> None:
    for listener in list(_listeners):
        listener(ids)
