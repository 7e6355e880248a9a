"""The events hub: a subscriber that falls behind, or that may have missed commits because
the hub was not hearing them, is told to resync rather than left believing it saw every
event."""

from __future__ import annotations

import asyncio

import pytest
from tortoise import connections

from compliance.events.models import DomainEvent
from identity.roles import Role
from leads import service
from leads.enums import Stage
from schema.streams import RESYNC
from server.db import dialect_of
from server.events_hub import QUEUE, Hub, HubSubscriber
from server.settings import Settings
from tests.builders import a_lead, a_staff_user, a_team, principal_for, session_token
from tests.conftest import _test_database_url
from tests.subscriptions.conftest import Live
from tests.subscriptions.test_websocket import first_events

ON_POSTGRES = dialect_of(_test_database_url()) == "postgres"


def test_a_subscriber_that_falls_behind_is_told_once_to_resync() -> None:
    subscriber = HubSubscriber(Hub("sqlite://:memory:"), "session")
    for number in range(QUEUE):
        subscriber.offer([str(number)])

    subscriber.offer(["one too many"])

    assert subscriber.queue.qsize() == 1
    assert subscriber.queue.get_nowait() == RESYNC


async def test_a_subscription_made_before_the_hub_hears_commits_starts_with_a_resync(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    team = await a_team()
    manager = await a_staff_user(Role.SALES_MANAGER, team)
    lead = await a_lead(team_id=team.id)

    async def not_hearing_yet(wait: float) -> bool:
        return False

    monkeypatch.setattr(live.hub, "ready", not_hearing_yet)

    async def act() -> None:
        await service.change_stage(principal_for(manager), lead.id, Stage.MQL, None)

    got = await first_events(live, await session_token(manager), 2, act, ["LEAD_STAGE_CHANGED"])

    assert [event["leadEvents"]["resync"] for event in got] == [True, False]
    assert got[1]["leadEvents"]["lead"]["id"] == str(lead.id)


@pytest.mark.skipif(not ON_POSTGRES, reason="the event channel: PostgreSQL")
async def test_a_lost_event_channel_is_reopened_and_every_subscriber_told_to_resync(
    settings: Settings,
) -> None:
    team = await a_team()
    manager = await a_staff_user(Role.SALES_MANAGER, team)
    lead = await a_lead(team_id=team.id)
    hub = Hub(settings.database_url.reveal())
    first, second = hub.subscribe("one", 10), hub.subscribe("two", 10)
    try:
        assert await hub.ready(10)
        ended = await connections.get("default").execute_query_dict(
            "SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity "
            "WHERE datname = current_database() AND query LIKE 'LISTEN %'"
        )
        assert [row["ended"] for row in ended] == [True]

        async with asyncio.timeout(10):
            assert await first.queue.get() == RESYNC
            assert await second.queue.get() == RESYNC
            await service.change_stage(principal_for(manager), lead.id, Stage.MQL, None)
            heard = await first.queue.get()  # on the reopened channel
        assert isinstance(heard, list)
        [changed] = await DomainEvent.filter(id__in=heard)
        assert changed.type == "lead.stage_changed"
    finally:
        first.close()
        second.close()
        await hub.close()
