"""This process's hub of committed lead events, which subscriptions read.

On SQLite every writer is in this process's reach only, so the hub hears of commits from
:mod:`core.commit_hooks`. On PostgreSQL it keeps one connection of its own that LISTENs on
:data:`compliance.events.emit.CHANNEL`, where every process's commits NOTIFY small messages
(event ids only); if that connection drops, it reconnects with backoff and tells every
subscriber to resync, as events may have been missed meanwhile. A subscriber whose queue
fills (a slow client) is told to resync too, rather than the hub waiting for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from compliance.events.emit import CHANNEL
from core import commit_hooks
from schema.streams import RESYNC, TooManySubscriptions

log = logging.getLogger("leadvault.events")
QUEUE = 1000
"""Messages a subscriber may have waiting before it is told to resync instead."""
RECONNECT_LONGEST = 30.0


class HubSubscriber:
    def __init__(self, hub: Hub, session: str) -> None:
        self.hub = hub
        self.session = session
        self.queue: asyncio.Queue[list[str] | str] = asyncio.Queue(QUEUE)

    def offer(self, item: list[str] | str) -> None:
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(RESYNC)

    async def next(self, wait: float) -> list[str] | str | None:
        try:
            return await asyncio.wait_for(self.queue.get(), wait)
        except TimeoutError:
            return None

    def close(self) -> None:
        self.hub.subscribers.discard(self)


class Hub:
    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.subscribers: set[HubSubscriber] = set()
        self._stop_listening: Callable[[], None] | None = None
        self._listener: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    @property
    def postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))

    def subscribe(self, session: str, limit: int) -> HubSubscriber:
        if sum(1 for s in self.subscribers if s.session == session) >= limit:
            raise TooManySubscriptions
        self.start()
        subscriber = HubSubscriber(self, session)
        self.subscribers.add(subscriber)
        return subscriber

    async def ready(self, wait: float) -> bool:
        try:
            await asyncio.wait_for(self.connected.wait(), wait)
        except TimeoutError:
            return False
        return True

    def publish(self, ids: Sequence[str]) -> None:
        for subscriber in list(self.subscribers):
            subscriber.offer(list(ids))

    def resync(self) -> None:
        for subscriber in list(self.subscribers):
            subscriber.offer(RESYNC)

    def start(self) -> None:
        """Begin hearing commits (on PostgreSQL, open the listening connection in the
        background; :meth:`ready` says when it is open). The first subscription does this."""
        if self.postgres:
            if self._listener is None or self._listener.done():
                self._listener = asyncio.create_task(self._listen(), name="events-hub")
        elif self._stop_listening is None:
            self._stop_listening = commit_hooks.listen(self.publish)
            self.connected.set()

    async def close(self) -> None:
        if self._stop_listening is not None:
            self._stop_listening()
            self._stop_listening = None
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None

    def _dsn(self) -> str:
        """The database URL as asyncpg takes it (the ORM's own options dropped)."""
        parts = urlsplit(self.database_url)
        return urlunsplit(("postgresql", parts.netloc, parts.path, "", ""))

    async def _listen(self) -> None:
        import asyncpg

        delay, first = 0.5, True
        while True:
            connection: Any = None
            try:
                connection = await asyncpg.connect(self._dsn())
                lost = asyncio.Event()
                connection.add_termination_listener(lambda _, lost=lost: lost.set())
                await connection.add_listener(CHANNEL, self._heard)
                self.connected.set()
                if not first:
                    self.resync()  # whatever committed while we were away was not heard
                first, delay = False, 0.5
                await lost.wait()
                log.warning("event channel lost; reconnecting")
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database may be away for a moment
                log.warning("event channel unavailable", extra={"error": type(error).__name__})
            finally:
                self.connected.clear()
                if connection is not None and not connection.is_closed():
                    with contextlib.suppress(Exception):
                        await connection.close()
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_LONGEST)

    def _heard(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        self.publish([part for part in payload.split(",") if part])
