"""Reads of a read-only GraphQL operation go to the replica, when one is configured.

Only a query's reads made outside a transaction go there. Writes, every read inside a
transaction (the audit append, a read-then-write), everything before the operation is
known (sign-in, sessions, request counters), every mutation, and everything on the key
store stay on the primary. A replica lags its primary a little: a client that writes and
at once reads back may see the state before its write, which is why a mutation's own
result is read on the primary.
"""

from __future__ import annotations

from tortoise import connections
from tortoise.backends.base.client import TransactionalDBClient
from tortoise.models import Model

from core.request_context import read_only

PRIMARY = "default"
REPLICA = "replica"


def reads_from_replica(model: type[Model]) -> bool:
    """The routing decision for one read of ``model``."""
    if not read_only() or model._meta.default_connection != PRIMARY:
        return False
    return not isinstance(connections.get(PRIMARY), TransactionalDBClient)


class ReplicaRouter:
    """Tortoise's router (installed only when ``LEADVAULT_REPLICA_DATABASE_URL`` is set)."""

    def db_for_read(self, model: type[Model]) -> str | None:
        return REPLICA if reads_from_replica(model) else None

    def db_for_write(self, model: type[Model]) -> str | None:
        return None
