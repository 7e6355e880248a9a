"""A subscription payload leaves only once its ``lead.read`` event has committed: over
WebSocket the subscription goes on to its next events meanwhile (the payloads wait in
order), over server-sent events each read is recorded in turn. A read that cannot be
recorded sends the payload without data, and nothing personal."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError

from audit.models import AuditEvent
from compliance.events.emit import emit, lead_event
from compliance.events.types import EventType
from identity.models import StaffUser
from identity.roles import Role
from leads import service
from leads.enums import Stage
from leads.models import Lead
from tests.builders import a_lead, a_staff_user, a_team, principal_for, session_token
from tests.subscriptions.conftest import Live
from tests.subscriptions.test_limits_and_sse import event_stream, sse_events
from tests.subscriptions.test_websocket import transport

EMAILS = "subscription { leadEvents { resync sequence lead { id email } } }"


async def test_payloads_whose_reads_commit_out_of_order_are_sent_in_order(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first payload's read is held back until the others' have committed; the
    payloads still arrive in the order of the events, each after its own read."""
    from schema.access import report

    team = await a_team()
    manager = await a_staff_user(Role.SALES_MANAGER, team)
    leads = [await a_lead(team_id=team.id) for _ in range(3)]
    written: list[str] = []
    first_may_go = asyncio.Event()
    real = report.record

    async def in_any_order(event: Any, **kwargs: Any) -> Any:
        if event.subject_ids == (str(leads[0].id),):
            await first_may_go.wait()
        row = await real(event, **kwargs)
        written.append(event.subject_ids[0])
        if len(written) == 2:  # the other two are in: now the first
            first_may_go.set()
        return row

    monkeypatch.setattr("schema.access.report.record", in_any_order)
    received: list[dict[str, Any]] = []
    async with Client(transport=transport(live, await session_token(manager))) as client:
        stream = client.subscribe(GraphQLRequest(EMAILS))
        first = asyncio.create_task(anext(stream))
        await live.subscribed()
        await emit(  # three events in one commit, within the per-second limit of 3
            [lead_event(EventType.LEAD_ASSIGNED, lead.id) for lead in leads], datetime.now(UTC)
        )
        async with asyncio.timeout(10):
            received.append(await first)
            while len(received) < 3:
                received.append(await anext(stream))
        await stream.aclose()

    assert [r["leadEvents"]["lead"]["id"] for r in received] == [str(x.id) for x in leads]
    assert written == [str(leads[1].id), str(leads[2].id), str(leads[0].id)]


@pytest.fixture
async def unrecordable(monkeypatch: pytest.MonkeyPatch) -> tuple[StaffUser, Lead]:
    """A manager and a lead of their team, while no read can be recorded."""
    team = await a_team()
    manager = await a_staff_user(Role.SALES_MANAGER, team)
    lead = await a_lead(team_id=team.id, email="ada@example.com")

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("audit storage unavailable")

    monkeypatch.setattr("schema.access.report.record", broken)
    return manager, lead


async def test_a_payload_whose_read_cannot_be_recorded_carries_no_data(
    live: Live, unrecordable: tuple[StaffUser, Lead]
) -> None:
    manager, lead = unrecordable
    async with Client(transport=transport(live, await session_token(manager))) as client:
        stream = client.subscribe(GraphQLRequest(EMAILS))
        waiting = asyncio.create_task(anext(stream))
        await live.subscribed()
        await service.change_stage(principal_for(manager), lead.id, Stage.MQL, None)
        with pytest.raises(TransportQueryError) as refused:
            async with asyncio.timeout(10):
                await waiting

    assert refused.value.data is None
    assert refused.value.errors is not None
    assert refused.value.errors[0]["extensions"]["code"] == "AUDIT_UNAVAILABLE"
    assert "ada@example.com" not in str(refused.value)
    assert not await AuditEvent.filter(action="lead.read", actor_id=str(manager.id)).exists()


async def test_over_server_sent_events_too(
    live: Live, unrecordable: tuple[StaffUser, Lead]
) -> None:
    manager, lead = unrecordable
    async with event_stream(live, await session_token(manager), EMAILS) as got:
        await live.subscribed()
        await service.change_stage(principal_for(manager), lead.id, Stage.MQL, None)
        async with asyncio.timeout(10):
            [event] = await sse_events(got, 1)

    assert event["data"] is None
    assert event["errors"][0]["extensions"]["code"] == "AUDIT_UNAVAILABLE"
    assert "ada@example.com" not in json.dumps(event)
