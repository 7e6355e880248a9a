"""The chain: gapless numbering under concurrent writers, and the tamper matrix (edit,
delete, insert, reorder, truncate, forged checkpoint), each named by ``verify``."""

from __future__ import annotations

import asyncio
import itertools
import sys
from datetime import UTC, datetime, timedelta

import pytest
from tortoise import connections

from audit import chain
from audit.chain import GENESIS
from audit.events import Actor, ActorType, Event, Outcome, Target, record
from audit.models import AuditCheckpoint, AuditEvent, AuditHead
from audit.verify import Problem, verify
from tests.conftest import _test_database_url

OPERATOR = Actor(ActorType.OPERATOR)
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def _events(count: int, *, every: int = 1000) -> list[AuditEvent]:
    chain.configure(checkpoint_every=every, checkpoint_minutes=60 * 24 * 365)
    try:
        for n in range(count):
            await record(
                Event(
                    "lead.read",
                    Outcome.SUCCESS,
                    OPERATOR,
                    target=Target("lead", f"lead-{n}"),
                    fields=("email",),
                    details={"n": n},
                ),
                now=START + timedelta(seconds=n),
            )
    finally:
        chain.configure(checkpoint_every=1000, checkpoint_minutes=60)
    return await AuditEvent.all().order_by("seq")


async def _sql(statement: str, *values: object) -> None:
    db = connections.get("default")
    if db.capabilities.dialect == "postgres":
        for i in range(len(values)):
            statement = statement.replace("?", f"${i + 1}", 1)
    await db.execute_query(statement, list(values))


async def test_events_are_numbered_without_gaps_and_linked() -> None:
    events = await _events(5)

    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
    result = await verify()
    assert result.ok
    assert result.events_checked == 5


async def test_a_checkpoint_signs_the_head_every_n_events() -> None:
    await _events(7, every=3)

    checkpoints = await AuditCheckpoint.all().order_by("seq")
    head = await AuditHead.get(id=1)

    assert [c.seq for c in checkpoints] == [1, 4, 7]  # the first append, then every 3 more
    assert head.seq == 7
    assert (await verify()).ok


async def test_an_edited_event_is_named() -> None:
    await _events(6)
    await _sql("UPDATE audit_event SET action = 'lead.updated' WHERE seq = ?", 4)

    result = await verify()

    assert result.problem is not None
    assert result.problem.seq == 4
    assert "altered" in result.problem.reason


async def test_an_edited_json_column_is_named() -> None:
    await _events(6)
    await _sql("UPDATE audit_event SET subject_ids = ? WHERE seq = ?", '["someone-else"]', 2)

    result = await verify()

    assert result.problem is not None
    assert result.problem.seq == 2


async def test_a_deleted_event_is_named() -> None:
    await _events(6)
    await _sql("DELETE FROM audit_event WHERE seq = ?", 3)

    result = await verify()

    assert result.problem == Problem(3, "event seq 3 is missing")


async def test_an_inserted_event_is_found() -> None:
    events = await _events(4)
    forged = AuditEvent(
        occurred_at=START,
        action="lead.read",
        outcome="success",
        actor_type="operator",
        seq=None,
    )
    await forged.save()

    result = await verify()

    assert result.problem is not None
    assert "no sequence number" in result.problem.reason
    assert events


async def test_an_event_appended_behind_the_recorders_back_is_found() -> None:
    events = await _events(4)
    last = events[-1]
    row = {name: getattr(last, name) for name in chain.CHAINED if name != "fields"}
    row.update(fields=last.fields_touched, seq=5, prev_hash=last.hash)
    forged = AuditEvent(
        seq=5,
        prev_hash=last.hash,
        hash=chain.event_hash(row),
        occurred_at=last.occurred_at,
        action=last.action,
        outcome=last.outcome,
        actor_type=last.actor_type,
        target_type=last.target_type,
        target_id=last.target_id,
        fields_touched=last.fields_touched,
        details=last.details,
        subject_ids=last.subject_ids,
    )
    await forged.save()

    result = await verify()

    assert result.problem == Problem(5, "event seq 5 was added outside the recorder")


async def test_reordered_events_are_named() -> None:
    await _events(6)
    await _sql("UPDATE audit_event SET seq = -1 WHERE seq = ?", 2)
    await _sql("UPDATE audit_event SET seq = 2 WHERE seq = ?", 3)
    await _sql("UPDATE audit_event SET seq = 3 WHERE seq = ?", -1)

    result = await verify()

    assert result.problem is not None
    assert result.problem.seq == 2
    assert "does not follow" in result.problem.reason


async def test_a_truncated_tail_is_found_from_the_checkpoint() -> None:
    await _events(6, every=5)
    await _sql("DELETE FROM audit_event WHERE seq >= ?", 5)
    await _sql("UPDATE audit_head SET seq = 4")

    result = await verify()

    assert result.problem == Problem(5, "events after seq 4 are missing (checkpoint at seq 6)")


async def test_a_truncated_tail_is_found_from_the_head() -> None:
    await _events(6)
    await _sql("DELETE FROM audit_event WHERE seq = ?", 6)

    result = await verify()

    assert result.problem == Problem(6, "events after seq 5 are missing (the head is at seq 6)")


async def test_a_log_whose_events_are_all_gone_is_named_from_its_checkpoint() -> None:
    await _events(4, every=3)  # signed at seq 1 and seq 4
    await _sql("DELETE FROM audit_subject")
    await _sql("DELETE FROM audit_event")

    result = await verify()

    assert result.problem == Problem(1, "events after seq 0 are missing (checkpoint at seq 4)")
    assert result.events_checked == 0


async def test_an_edit_is_reported_before_a_truncated_tail() -> None:
    await _events(6)
    await _sql("UPDATE audit_event SET action = 'lead.updated' WHERE seq = ?", 2)
    await _sql("DELETE FROM audit_event WHERE seq = ?", 6)

    result = await verify()

    assert result.problem == Problem(2, "event seq 2 was altered after it was written")


@pytest.mark.parametrize(("count", "expected"), [(2000, [1000, 1000]), (2500, [1000, 1000, 500])])
async def test_progress_is_reported_per_thousand_events_and_the_rest(
    count: int, expected: list[int]
) -> None:
    from audit.events import record_many

    chain.configure(checkpoint_every=1000, checkpoint_minutes=60 * 24 * 365)
    try:
        for start in range(0, count, 500):
            await record_many(
                [Event("a.b", Outcome.SUCCESS, OPERATOR) for _ in range(500)],
                now=START + timedelta(seconds=start),
            )
    finally:
        chain.configure(checkpoint_every=1000, checkpoint_minutes=60)
    reported: list[int] = []

    result = await verify(on_progress=reported.append)

    assert result.ok, result.problem
    assert reported == expected
    latest = await AuditCheckpoint.all().order_by("-seq").first()
    assert latest is not None
    assert (result.last_checkpoint_seq, result.last_checkpoint_at) == (
        latest.seq,
        latest.created_at,
    )


async def test_a_rewritten_chain_is_caught_by_the_signed_checkpoint() -> None:
    events = await _events(6, every=5)
    previous = GENESIS
    for event in events:  # recompute every hash after editing event 2
        if event.seq == 2:
            event.action = "lead.updated"
        event.prev_hash = previous
        row = {name: getattr(event, name) for name in chain.CHAINED if name != "fields"}
        row["fields"] = event.fields_touched
        event.hash = chain.event_hash(row)
        previous = event.hash
        await event.save(update_fields=["action", "prev_hash", "hash"])
    await _sql("UPDATE audit_head SET hash = ?", previous)

    result = await verify()

    assert result.problem is not None
    assert result.problem.seq == 6  # checkpoints at 1 and 6: the one after the edit
    assert "checkpoint" in result.problem.reason


async def test_a_forged_checkpoint_signature_is_found() -> None:
    await _events(3)
    await _sql("UPDATE audit_checkpoint SET signature = ?", "00" * 64)

    result = await verify()

    assert result.problem is not None
    assert result.problem.seq == 1
    assert result.problem.reason == "the checkpoint's signature does not verify"


async def test_concurrent_writer_processes_make_one_gapless_chain() -> None:
    writers, each = 4, 300
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.audit.writer",
            _test_database_url(),
            f"writer-{w}",
            str(each),
        )
        for w in range(writers)
    ]
    codes = await asyncio.gather(*(p.wait() for p in processes))

    assert codes == [0] * writers
    db = connections.get("default")
    rows = await db.execute_query_dict("SELECT seq, actor_id FROM audit_event ORDER BY seq")
    assert [r["seq"] for r in rows] == list(range(1, writers * each + 1))
    per_writer = {f"writer-{w}": 0 for w in range(writers)}
    for row in rows:
        per_writer[row["actor_id"]] += 1
    assert set(per_writer.values()) == {each}
    result = await verify()
    assert result.ok, result.problem
    assert result.events_checked == writers * each


@pytest.mark.parametrize("batch", [1, 3])
async def test_verify_can_check_a_range(batch: int) -> None:
    await _events(6)

    result = await verify(from_seq=3, to_seq=3 + batch)

    assert result.ok
    assert result.first_seq == 3
    assert result.last_seq == 3 + batch


async def test_a_quiet_tail_is_signed_on_demand_once() -> None:
    await _events(3)  # signed at the first event only

    made = await chain.checkpoint_now(START + timedelta(hours=2))
    again = await chain.checkpoint_now(START + timedelta(hours=3))

    assert made is not None
    assert made.seq == 3
    assert again is not None
    assert again.id == made.id
    assert [c.seq for c in await AuditCheckpoint.all().order_by("seq")] == [1, 3]
    assert (await verify()).ok


async def test_a_row_removed_from_the_subject_index_is_found() -> None:
    await _events(3)
    await _sql("DELETE FROM audit_subject WHERE seq = ?", 2)

    result = await verify()

    assert result.problem is not None
    assert result.problem.seq is None
    assert result.problem.reason == "the subject index does not match the subjects the events name"
