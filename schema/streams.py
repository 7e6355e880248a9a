"""What subscriptions need from the server: where they hear of events (this process's hub,
:mod:`server.events_hub`, which hears of every committed lead event: on SQLite from this
process, on PostgreSQL from every process), and their limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

RESYNC = "resync"
"""Handed to a subscriber instead of ids when some may have been missed (its queue filled,
or the hub lost its database connection for a while): the client should refetch."""


class Subscriber(Protocol):
    async def next(self, wait: float) -> list[str] | str | None:
        """Committed event ids, :data:`RESYNC`, or None when ``wait`` seconds passed quietly."""
        ...

    def close(self) -> None: ...


class TooManySubscriptions(Exception):
    """The session already holds as many subscriptions as it may."""


class EventSource(Protocol):
    async def ready(self, wait: float) -> bool:
        """Whether the source hears commits now (waiting up to ``wait`` seconds for it)."""
        ...

    def subscribe(self, session: str, limit: int) -> Subscriber:
        """A new subscriber for ``session``; :class:`TooManySubscriptions` past ``limit``."""
        ...


@dataclass(frozen=True, slots=True)
class SubscriptionLimits:
    per_session: int = 10
    """Subscriptions one session may hold open at once in one process (its connections
    together)."""
    per_second: int = 20
    """Events one subscription may receive a second; past it, one ``resync`` instead."""
    session_check_seconds: float = 10.0
    """How often a subscription checks its session is still valid (a revoked or expired
    session ends it within this)."""
    idle_seconds: float = 300.0
    """A connection with no subscription for this long is closed."""
