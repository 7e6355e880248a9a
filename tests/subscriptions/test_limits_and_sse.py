"""Subscriptions over server-sent events, and the limits: subscriptions per session, events
per second (past it, one resync), idle connections."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import websockets
from gql import Client

from compliance.events.emit import emit, lead_event
from compliance.events.types import EventType
from identity.models import SessionStage
from identity.roles import Role
from leads import service
from leads.enums import Stage
from server import subscriptions
from tests.builders import a_lead, a_staff_user, a_team, principal_for, session_token
from tests.subscriptions.conftest import Live
from tests.subscriptions.test_websocket import request, transport

QUERY = "subscription { leadEvents { resync type lead { email } } }"


async def sse_events(response: httpx.Response, count: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    async for line in response.aiter_lines():
        if line.startswith("data:"):
            found.append(json.loads(line.removeprefix("data:").strip()))
            if len(found) == count:
                break
    return found


@contextlib.asynccontextmanager
async def event_stream(live: Live, token: str, query: str) -> AsyncIterator[httpx.Response]:
    """A subscription over server-sent events, open until the block ends."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    async with (
        httpx.AsyncClient(base_url=live.http, timeout=10) as http,
        http.stream("POST", "/graphql", json={"query": query}, headers=headers) as got,
    ):
        yield got


async def test_server_sent_events_carry_the_same_masked_payload(live: Live) -> None:
    team = await a_team()
    manager = await a_staff_user(Role.SALES_MANAGER, team)
    marketer = await a_staff_user(Role.MARKETER, team)
    lead = await a_lead(team_id=team.id, email="ada@example.com")

    async with event_stream(live, await session_token(marketer), QUERY) as got:
        assert got.status_code == 200
        assert got.headers["content-type"].startswith("text/event-stream")
        await live.subscribed()
        await service.change_stage(principal_for(manager), lead.id, Stage.MQL, None)
        async with asyncio.timeout(10):
            [event] = await sse_events(got, 1)

    shown = event["data"]["leadEvents"]
    assert shown["type"] == "LEAD_STAGE_CHANGED"
    assert shown["lead"]["email"] != "ada@example.com"
    assert "ada@example.com" not in json.dumps(event)


async def test_server_sent_events_need_an_mfa_complete_staff_session(live: Live) -> None:
    headers = {"Accept": "text/event-stream"}
    user = await a_staff_user(Role.SALES_MANAGER)
    pending = await session_token(user, stage=SessionStage.MFA_PENDING)

    async with httpx.AsyncClient(base_url=live.http, timeout=10) as http:
        anonymous = await http.post("/graphql", json={"query": QUERY}, headers=headers)
        forged = await http.post(
            "/graphql", json={"query": QUERY}, headers={**headers, "Authorization": "Bearer x"}
        )
        half = await http.post(
            "/graphql",
            json={"query": QUERY},
            headers={**headers, "Authorization": f"Bearer {pending}"},
        )
    first = json.loads(anonymous.text.split("data:", 1)[1].split("\n", 1)[0])
    assert first["data"] is None
    assert first["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "event: complete" in anonymous.text
    assert forged.status_code == 401
    assert '"data":null' in half.text.replace(" ", "")
    assert "leadEvents" not in half.text


async def test_a_session_holds_at_most_its_limit_of_subscriptions(live: Live) -> None:
    user = await a_staff_user(Role.SALES_MANAGER)
    token = await session_token(user)

    async with (
        Client(transport=transport(live, token)) as first,
        Client(transport=transport(live, token)) as second,
        Client(transport=transport(live, token)) as third,
    ):
        held = [asyncio.create_task(anext(c.subscribe(request()))) for c in (first, second)]
        await live.subscribed(2)
        with pytest.raises(Exception) as refused:  # noqa: PT011 - the message is checked
            async with asyncio.timeout(5):
                await anext(third.subscribe(request()))
        for task in held:
            task.cancel()

    assert "at most 2 subscriptions per session" in str(refused.value)


async def test_a_burst_past_the_per_second_limit_arrives_as_one_resync(live: Live) -> None:
    team = await a_team()
    manager = await a_staff_user(Role.SALES_MANAGER, team)
    leads = [await a_lead(team_id=team.id) for _ in range(6)]
    received: list[dict[str, Any]] = []

    async with Client(transport=transport(live, await session_token(manager))) as client:
        stream = client.subscribe(request())
        first = asyncio.create_task(anext(stream))
        await live.subscribed()
        await emit(  # six events in one commit: one message to the hub
            [lead_event(EventType.LEAD_ASSIGNED, lead.id) for lead in leads], datetime.now(UTC)
        )
        async with asyncio.timeout(10):
            received.append(await first)
            while not received[-1]["leadEvents"]["resync"]:
                received.append(await anext(stream))
        await stream.aclose()

    kinds = [r["leadEvents"]["resync"] for r in received]
    assert kinds == [False, False, False, True]


async def test_a_connection_running_nothing_is_closed_when_idle(live: Live) -> None:
    user = await a_staff_user(Role.SALES_MANAGER)
    token = await session_token(user)

    async with websockets.connect(live.ws, subprotocols=["graphql-transport-ws"]) as socket:
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        await socket.send(json.dumps(init))
        assert json.loads(await socket.recv())["type"] == "connection_ack"
        with pytest.raises(websockets.ConnectionClosed) as closed:
            async with asyncio.timeout(6):  # idle after 2 s in these tests
                await socket.recv()

    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4408


async def test_a_slow_sign_in_is_not_idleness(live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    """Idle time counts from the acknowledgement: a connection whose ``connection_init``
    takes longer than the idle limit to authenticate is acknowledged, not closed."""
    user = await a_staff_user(Role.SALES_MANAGER)
    token = await session_token(user)
    checked = subscriptions.authenticate

    async def slowly(*args: Any) -> Any:
        await asyncio.sleep(3)  # longer than the 2 s idle limit of these tests
        return await checked(*args)

    monkeypatch.setattr(subscriptions, "authenticate", slowly)
    async with websockets.connect(live.ws, subprotocols=["graphql-transport-ws"]) as socket:
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        await socket.send(json.dumps(init))
        async with asyncio.timeout(8):
            assert json.loads(await socket.recv())["type"] == "connection_ack"
