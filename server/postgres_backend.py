"""The PostgreSQL client: Tortoise's asyncpg client whose transactions write their audit
events just before they commit (:mod:`audit.deferred`), so the chain's head is locked for
the commit, not for the whole transaction."""

from __future__ import annotations

from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper
from tortoise.backends.base.client import (
    NestedTransactionContext,
    TransactionContext,
    TransactionContextPooled,
)

from audit.deferred import DefersAudit


class AuditedTransaction(DefersAudit, TransactionWrapper):
    def _in_transaction(self) -> TransactionContext:
        return NestedTransactionContext(AuditedTransaction(self))


class AuditedAsyncpgClient(AsyncpgDBClient):
    def _in_transaction(self) -> TransactionContext:
        return TransactionContextPooled(AuditedTransaction(self), self._pool_init_lock)


client_class = AuditedAsyncpgClient
"""What Tortoise instantiates for a connection whose ``engine`` is this module."""
