"""Subscribing over WebSocket (graphql-transport-ws, with gql's websockets transport): lead
events for leads in the subscriber's scope only, payloads masked as a query masks them and
audited as a query is, MFA-complete sessions only, and a revoked session closes the
connection."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport

from audit.models import AuditEvent
from identity import sessions
from identity.models import SessionStage
from identity.roles import Role
from leads import service
from leads.enums import Stage
from tests.builders import a_lead, a_staff_user, a_team, principal_for, session_token
from tests.subscriptions.conftest import Live

DOCUMENT = """subscription ($types: [WebhookEventType!]) {
  leadEvents(types: $types) { resync eventId type sequence lead { id email firstName stage } }
}"""


def request(types: list[str] | None = None) -> GraphQLRequest:
    return GraphQLRequest(DOCUMENT, variable_values={"types": types})


def transport(live: Live, token: str | None) -> WebsocketsTransport:
    params = {"Authorization": f"Bearer {token}"} if token else {}
    return WebsocketsTransport(url=live.ws, init_payload=params, connect_timeout=5)


async def first_events(
    live: Live, token: str, count: int, act: Any, types: list[str] | None = None
) -> list[dict[str, Any]]:
    """Subscribe, then ``act()``, and collect ``count`` events (bounded by 10 s)."""
    received: list[dict[str, Any]] = []
    async with Client(transport=transport(live, token)) as client:
        stream = client.subscribe(request(types))
        async with asyncio.timeout(10):
            started = asyncio.create_task(anext(stream))
            await live.subscribed()
            await act()
            received.append(await started)
            while len(received) < count:
                received.append(await anext(stream))
        await stream.aclose()  # stop it (gql waits for unfinished ones when closing)
    return received


async def test_a_manager_receives_events_of_their_teams_leads_in_full(live: Live) -> None:
    team = await a_team()
    manager = await a_staff_user(Role.SALES_MANAGER, team)
    lead = await a_lead(team_id=team.id, email="ada@example.com", first_name="Ada")

    async def act() -> None:
        await service.change_stage(principal_for(manager), lead.id, Stage.MQL, None)

    [event] = await first_events(live, await session_token(manager), 1, act, ["LEAD_STAGE_CHANGED"])

    payload = event["leadEvents"]
    assert payload["type"] == "LEAD_STAGE_CHANGED"
    assert payload["lead"]["email"] == "ada@example.com"
    assert payload["lead"]["stage"] == "MQL"
    read = await AuditEvent.filter(action="lead.read").order_by("-seq").first()
    assert read is not None
    assert str(lead.id) in read.subject_ids
    assert "email" in read.fields_touched


async def test_a_marketers_payload_is_masked_as_in_a_query(live: Live) -> None:
    team = await a_team()
    manager = await a_staff_user(Role.SALES_MANAGER, team)
    marketer = await a_staff_user(Role.MARKETER, team)
    lead = await a_lead(team_id=team.id, email="ada@example.com", first_name="Ada")

    async def act() -> None:
        await service.change_stage(principal_for(manager), lead.id, Stage.MQL, None)

    [event] = await first_events(
        live, await session_token(marketer), 1, act, ["LEAD_STAGE_CHANGED"]
    )

    shown = event["leadEvents"]["lead"]
    assert shown["email"] != "ada@example.com"
    assert "ada@example.com" not in str(event)
    read = await AuditEvent.filter(action="lead.read").order_by("-seq").first()
    assert read is not None
    assert "email" in read.fields_masked


async def test_a_subscriber_outside_the_row_scope_receives_nothing(live: Live) -> None:
    mine, theirs = await a_team(), await a_team()
    rep = await a_staff_user(Role.SALES_MANAGER, mine)
    other_manager = await a_staff_user(Role.SALES_MANAGER, theirs)
    outside = await a_lead(team_id=theirs.id)
    inside = await a_lead(team_id=mine.id)

    async def act() -> None:
        await service.change_stage(principal_for(other_manager), outside.id, Stage.MQL, None)
        await service.change_stage(principal_for(rep), inside.id, Stage.MQL, None)

    events = await first_events(live, await session_token(rep), 1, act, ["LEAD_STAGE_CHANGED"])

    assert [e["leadEvents"]["lead"]["id"] for e in events] == [str(inside.id)]


async def test_only_mfa_complete_staff_sessions_may_connect(live: Live) -> None:
    user = await a_staff_user(Role.SALES_MANAGER)
    pending = await session_token(user, stage=SessionStage.MFA_PENDING)

    for token in (None, "lvs_forged", pending):
        with pytest.raises(Exception) as refused:  # noqa: PT011 - the close code is checked
            async with Client(transport=transport(live, token)) as client:
                await anext(client.subscribe(request()))
        assert "4403" in repr(refused.value) + repr(refused.value.__cause__)


async def test_a_revoked_session_closes_the_connection(live: Live) -> None:
    user = await a_staff_user(Role.SALES_MANAGER)
    token = await session_token(user)

    async def subscribe_then_revoke() -> None:
        async with Client(transport=transport(live, token)) as client:
            waiting = asyncio.create_task(anext(client.subscribe(request())))
            await live.subscribed()
            await sessions.revoke_all(user.id, "admin", datetime.now(UTC))  # an admin ends them
            async with asyncio.timeout(5):  # sessions are checked every second in these tests
                await waiting

    with pytest.raises(Exception) as closed:  # noqa: PT011 - the close code is checked
        await subscribe_then_revoke()

    assert "4401" in repr(closed.value) + repr(closed.value.__cause__)
