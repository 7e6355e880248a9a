"""Verification at its edges: an empty log, a log longer than one read batch, a ranged check,
a log cut at its oldest end, the first of several problems, and signing a one-event log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tortoise import connections

from audit import chain
from audit import verify as verify_module
from audit.events import Actor, Event, Outcome, Target, record
from audit.models import AuditCheckpoint, AuditEvent, AuditHead, AuditSubject
from audit.verify import verify
from crypto import signing
from server.cli.audit import summary
from tests.conftest import _test_database_url

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def _events(count: int, *, every: int = 1000) -> None:
    chain.configure(checkpoint_every=every, checkpoint_minutes=60 * 24 * 365)
    try:
        for n in range(count):
            await record(
                Event("lead.read", Outcome.SUCCESS, Actor.operator(), Target("lead", f"l-{n}")),
                now=START + timedelta(seconds=n),
            )
    finally:
        chain.configure(checkpoint_every=1000, checkpoint_minutes=60)


async def _alter(seq: int) -> None:
    await AuditEvent.filter(seq=seq).update(action="lead.updated")


async def test_an_empty_log_verifies_with_nothing_checked() -> None:
    result = await verify()

    assert result.ok
    assert result.events_checked == 0
    assert result.first_seq is None
    assert result.last_seq is None
    assert result.checkpoints_checked == 0


async def test_checking_an_empty_log_signs_nothing() -> None:
    assert await chain.checkpoint_now(START) is None
    assert await AuditCheckpoint.all().count() == 0


async def test_a_one_event_log_gets_its_checkpoint_on_demand() -> None:
    await _events(1)
    await AuditCheckpoint.all().delete()

    made = await chain.checkpoint_now(START + timedelta(hours=1))

    assert made is not None
    assert made.seq == 1
    assert made.head_hash == (await AuditEvent.get(seq=1)).hash
    assert (await verify()).ok


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> int:
    """Three events per read, so ten events take four reads (the same code path as 5,000)."""
    monkeypatch.setattr(verify_module, "BATCH", 3)
    return 3


async def test_a_log_longer_than_one_batch_is_read_whole(small_batches: int) -> None:
    await _events(10)

    result = await verify()

    assert result.ok
    assert result.events_checked == 10
    assert (result.first_seq, result.last_seq) == (1, 10)


@pytest.mark.parametrize("seq", [3, 4, 10])
async def test_an_edit_at_a_batch_edge_is_named(small_batches: int, seq: int) -> None:
    await _events(10)
    await _alter(seq)

    result = await verify()

    assert result.problem is not None
    assert result.problem.seq == seq


async def test_a_range_checks_only_its_events() -> None:
    await _events(8)
    await _alter(7)

    inside = await verify(from_seq=3, to_seq=5)
    whole = await verify()

    assert inside.ok
    assert inside.events_checked == 3
    assert (inside.first_seq, inside.last_seq) == (3, 5)
    assert whole.problem is not None
    assert whole.problem.seq == 7


async def test_an_edit_inside_a_range_is_named() -> None:
    await _events(8)
    await _alter(4)

    result = await verify(from_seq=3, to_seq=5)

    assert result.problem is not None
    assert result.problem.seq == 4


async def test_the_first_of_several_problems_is_the_one_reported() -> None:
    await _events(8)
    await _alter(6)
    await _alter(3)

    result = await verify()

    assert result.problem is not None
    assert result.problem.seq == 3


async def test_events_cut_from_the_start_without_an_anchor_are_named() -> None:
    await _events(6, every=1000)
    await AuditEvent.filter(seq__lte=2).delete()

    result = await verify()

    assert result.problem is not None
    assert result.problem.seq == 3
    assert "events before seq 3 are gone" in result.problem.reason


async def test_events_cut_at_a_signed_checkpoint_still_verify() -> None:
    await _events(6, every=3)  # checkpoints at 1 and 4
    await AuditEvent.filter(seq__lte=4).delete()
    await AuditSubject.filter(seq__lte=4).delete()

    result = await verify()

    assert result.ok
    assert result.events_checked == 2
    assert result.first_seq == 5


async def test_the_command_line_summary_says_when_there_is_nothing_to_check() -> None:
    empty = summary(await verify())
    await _events(4, every=3)
    full = summary(await verify())

    assert empty == "audit chain OK: no events to check, no signed checkpoints"
    assert full == "audit chain OK: 4 events (seq 1–4), 2 signed checkpoints, the last at seq 4"


async def test_a_checkpoint_on_demand_is_manual_and_moves_the_head() -> None:
    await _events(2)
    await AuditCheckpoint.all().delete()
    later = START + timedelta(hours=2)

    made = await chain.checkpoint_now(later)
    head = await AuditHead.get(id=1)

    assert made is not None
    assert made.reason == "manual"
    assert (head.checkpoint_seq, head.checkpoint_at) == (2, later)
    assert await chain.checkpoint_now(later + timedelta(hours=1)) == made


async def test_stored_json_spelled_differently_but_meaning_the_same_still_verifies() -> None:
    """A row written by another writer with spaces and another key order is the same event;
    only a change of content is tampering."""
    await record(
        Event("lead.read", Outcome.SUCCESS, Actor.operator(), details={"a": 1, "b": "x"}),
        now=START,
    )
    await record(Event("lead.read", Outcome.SUCCESS, Actor.operator()), now=START)
    db = connections.get("default")
    mark = "$1" if db.capabilities.dialect == "postgres" else "?"
    await db.execute_query(
        f"UPDATE audit_event SET details = {mark} WHERE seq = 1",
        ['{"b": "x", "a": 1}'],
    )

    assert (await verify()).ok
    await db.execute_query(
        f"UPDATE audit_event SET details = {mark} WHERE seq = 1",
        ['{"b": "y", "a": 1}'],
    )
    changed = await verify()
    assert changed.problem is not None
    assert changed.problem.seq == 1


@pytest.mark.skipif(
    "postgres" in _test_database_url(), reason="PostgreSQL rows are always hashed from values"
)
async def test_stored_sqlite_rows_are_hashed_as_text_without_rebuilding_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An intact SQLite row hashes straight from its stored text; the canonical form is
    rebuilt only for a row whose text differs (which is what keeps verify fast)."""
    await _events(5)
    rebuilt: list[int] = []
    real = verify_module.canonical

    def counting(row: dict[str, object]) -> bytes:
        rebuilt.append(int(str(row["seq"])))
        return real(row)

    monkeypatch.setattr(verify_module, "canonical", counting)

    assert (await verify()).ok
    assert rebuilt == []
    await _alter(2)
    assert (await verify()).problem == verify_module.Problem(
        2, "event seq 2 was altered after it was written"
    )
    assert rebuilt == [2]


async def test_a_range_whose_preceding_event_is_gone_names_it() -> None:
    await _events(6)
    await AuditEvent.filter(seq=3).delete()

    result = await verify(from_seq=4, to_seq=6)

    assert result.problem == verify_module.Problem(3, "event seq 3 is missing")
    assert result.events_checked == 0


async def test_a_forged_signature_is_reported_before_a_cut_at_the_start() -> None:
    await _events(6, every=1000)
    await AuditEvent.filter(seq__lte=2).delete()
    await AuditCheckpoint.filter(seq=1).update(signature="00" * 64)

    result = await verify()

    assert result.problem == verify_module.Problem(1, "the checkpoint's signature does not verify")


async def test_checkpoints_signed_before_a_signing_key_rotation_still_verify() -> None:
    await _events(4, every=2)
    await signing.rotate(signing.AUDIT_CHECKPOINTS, START)
    await _events(2, every=2)

    result = await verify()
    versions = await AuditCheckpoint.all().order_by("seq").values_list("key_version", flat=True)

    assert result.ok, result.problem
    assert versions == [1, 1, 2]
