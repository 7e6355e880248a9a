"""A real server on a loopback port in the test's own event loop and database (so the
in-process hub hears the test's commits), and a WebSocket client (gql's websockets
transport) to subscribe with."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
import uvicorn

from server.app import create_app
from server.settings import Settings


@dataclass
class Live:
    port: int
    hub: Any

    async def subscribed(self, count: int = 1) -> None:
        """Wait (at most 5 s) until the server holds ``count`` subscriptions."""
        async with asyncio.timeout(5):
            while len(self.hub.subscribers) < count:  # noqa: ASYNC110 - bounded
                await asyncio.sleep(0.01)
            await self.hub.connected.wait()  # on PostgreSQL: listening

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def quick(settings: Settings) -> Settings:
    """Limits small enough for tests to reach."""
    return replace(
        settings,
        subscription_session_check_seconds=1,
        subscription_idle_seconds=2,
        subscriptions_per_session=2,
        subscription_events_per_second=3,
    )


@contextlib.asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[Live]:
    """The API on a loopback port of this process, until the block ends."""
    app = create_app(settings, manage_database=False)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, lifespan="off", log_config=None, ws="websockets-sansio"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:  # noqa: ASYNC110 - bounded
            await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    app.state.events.start()  # hearing commits before anyone subscribes: no first resync
    assert await app.state.events.ready(10)
    try:
        yield Live(port, app.state.events)
    finally:
        server.should_exit = True
        await task
        await app.state.events.close()


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with serving(quick(settings)) as running:
        yield running
