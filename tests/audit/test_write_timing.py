"""When audit events are written: inside a transaction, just before it commits (with the
change, or not at all); outside one, in groups, each caller waiting for its own events."""

from __future__ import annotations

import asyncio

import pytest
from tortoise.transactions import in_transaction

from audit import deferred, group
from audit.events import Actor, Event, Outcome, record
from audit.models import AuditEvent
from audit.verify import verify
from identity.models import Team


def an_event(action: str = "test.event") -> Event:
    return Event(action, Outcome.SUCCESS, Actor.operator())


async def test_an_event_inside_a_transaction_is_written_when_it_commits() -> None:
    async with in_transaction("default"):
        await Team.create(name="deferred")
        await record(an_event("team.created"))
        assert not await AuditEvent.filter(action="team.created").exists()  # not yet

    event = await AuditEvent.get(action="team.created")
    assert event.seq is not None
    assert (await verify()).ok


async def _undone_savepoint() -> None:
    async with in_transaction("default"):
        await record(an_event("dropped"))
        raise RuntimeError("undo the savepoint")


async def test_events_of_a_rolled_back_savepoint_are_dropped_with_it() -> None:
    async with in_transaction("default"):
        await record(an_event("kept.before"))
        with pytest.raises(RuntimeError):
            await _undone_savepoint()
        await record(an_event("kept.after"))

    actions = await AuditEvent.all().order_by("seq").values_list("action", flat=True)
    assert actions == ["kept.before", "kept.after"]
    assert (await verify()).ok


async def test_a_change_whose_events_cannot_be_written_does_not_commit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def failing(*_: object) -> None:
        raise ConnectionError("audit store unavailable")

    async def change() -> None:
        async with in_transaction("default"):
            await Team.create(name="must-not-stay")
            await record(an_event("team.created"))

    monkeypatch.setattr(deferred, "_writer", failing)
    with pytest.raises(ConnectionError):
        await change()

    assert not await Team.exists(name="must-not-stay")
    assert not await AuditEvent.exists()


async def test_concurrent_appends_outside_transactions_share_groups() -> None:
    before = group._groups.groups_written

    await asyncio.gather(*(record(an_event(f"read.{n}")) for n in range(30)))

    assert await AuditEvent.all().count() == 30
    assert group._groups.groups_written - before < 30  # fewer transactions than events
    assert (await verify()).ok


async def test_every_caller_of_a_failed_group_gets_the_error_and_nothing_is_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from audit import chain

    async def failing(*_: object) -> None:
        raise ConnectionError("audit store unavailable")

    monkeypatch.setattr(chain, "_write", failing)
    results = await asyncio.gather(
        *(record(an_event(f"read.{n}")) for n in range(5)), return_exceptions=True
    )

    assert all(isinstance(result, ConnectionError) for result in results)
    assert not await AuditEvent.exists()
