"""Per-principal request budgets, counted in the database so that every server process
shares them.

Each principal (a member of staff, an API key, or before sign-in a client address) has a
fixed one-minute window with a budget of requests and of query cost. One atomic upsert per
request counts and reads the window: no read-modify-write race between processes.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

from crypto.vault import current_vault

COUNTERS_CONNECTION = "counters"
"""The connection counters are written on when the server configures one (on SQLite: a
file of their own, without an fsync per commit); otherwise the default connection (on
PostgreSQL the table is unlogged)."""
COUNTERS_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS rate_limit_counter ("
    "key VARCHAR(80) NOT NULL PRIMARY KEY, window_start BIGINT NOT NULL, "
    "requests INT NOT NULL DEFAULT 0, cost BIGINT NOT NULL DEFAULT 0)"
)
"""The counters table where it is not migrated with the rest (a SQLite counters file)."""
WINDOW_SECONDS = 60
ADDRESS_KEY_PURPOSE = "rate-limit-address"
"""Addresses are keyed-hashed: a plain hash of an IPv4 address is reversible by trying them all."""

_SQL = (
    "INSERT INTO rate_limit_counter (key, window_start, requests, cost) "
    "VALUES ({p1}, {p2}, 1, {p3}) "
    "ON CONFLICT (key) DO UPDATE SET "
    "requests = CASE WHEN rate_limit_counter.window_start = excluded.window_start "
    "THEN rate_limit_counter.requests + 1 ELSE 1 END, "
    "cost = CASE WHEN rate_limit_counter.window_start = excluded.window_start "
    "THEN rate_limit_counter.cost + excluded.cost ELSE excluded.cost END, "
    "window_start = excluded.window_start "
    "RETURNING requests, cost"
)


@dataclass(frozen=True, slots=True)
class Budget:
    requests_per_minute: int
    cost_per_minute: int


@dataclass(frozen=True, slots=True)
class Usage:
    requests: int
    cost: int
    window_ends: datetime
    budget: Budget

    @property
    def allowed(self) -> bool:
        return (
            self.requests <= self.budget.requests_per_minute
            and self.cost <= self.budget.cost_per_minute
        )

    def retry_after_seconds(self, now: datetime) -> int:
        return max(1, int((self.window_ends - now).total_seconds() + 0.999))

    @property
    def remaining_requests(self) -> int:
        return max(0, self.budget.requests_per_minute - self.requests)

    @property
    def remaining_cost(self) -> int:
        return max(0, self.budget.cost_per_minute - self.cost)


def key_for(*, user_id: object = None, api_key_id: object = None, address: str = "") -> str:
    if user_id is not None:
        return f"user:{user_id}"
    if api_key_id is not None:
        return f"key:{api_key_id}"
    key = current_vault().keyring.derive(ADDRESS_KEY_PURPOSE)
    return "addr:" + hmac.new(key, address.encode(), hashlib.sha256).hexdigest()[:40]


def counter_connection() -> BaseDBAsyncClient:
    configured = COUNTERS_CONNECTION in connections.db_config
    return connections.get(COUNTERS_CONNECTION if configured else "default")


async def spend(key: str, cost: int, budget: Budget, now: datetime) -> Usage:
    """Count one request of ``cost`` against ``key``'s current window."""
    window = int(now.timestamp()) // WINDOW_SECONDS * WINDOW_SECONDS
    connection = counter_connection()
    if connection.capabilities.dialect == "postgres":
        sql = _SQL.format(p1="$1", p2="$2", p3="$3")
    else:
        sql = _SQL.format(p1="?", p2="?", p3="?")
    rows = await connection.execute_query_dict(sql, [key, window, cost])
    row = rows[0]
    ends = datetime.fromtimestamp(window + WINDOW_SECONDS, tz=now.tzinfo)
    return Usage(int(row["requests"]), int(row["cost"]), ends, budget)
