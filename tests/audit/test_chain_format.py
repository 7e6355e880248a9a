"""The hash format, pinned, and tampering with every column the hash covers.

A known answer fixes what a stored event hashes to: a change to the separator, the NULL
marker, the order of columns or the canonical JSON would strand every stored chain, and
fails here first. Then each chained column in turn is edited in the database, and ``verify``
must name the edited event.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from tortoise import connections

from audit import chain
from audit.events import Actor, ActorType, Event, Outcome, Target, record
from audit.models import AuditEvent
from audit.verify import verify
from core.request_context import bind_request_id, reset_request_id

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

KNOWN_ROW: dict[str, Any] = {
    "seq": 7,
    "prev_hash": "ab" * 32,
    "occurred_at": datetime(2026, 3, 1, 12, 0, 5, 250000, tzinfo=UTC),
    "action": "lead.read",
    "outcome": "success",
    "actor_type": "user",
    "actor_id": "4f6c2a9e-0000-4000-8000-000000000001",
    "actor_role": "sales_rep",
    "session_id": None,
    "request_id": "req-1",
    "target_type": "lead",
    "target_id": "lead-1",
    "fields": ["email", "phone"],
    "purpose": None,
    "mfa_age_seconds": 42,
    "details": {"zeta": 1, "alpha": "x"},
    "subject_ids": ["lead-1"],
    "fields_masked": [],
    "fields_denied": ["notes"],
    "client": None,
}
# Every column in order, joined by the ASCII unit separator (0x1f); None is a NUL byte; JSON
# is compact with sorted keys; the time is str() of the UTC datetime.
KNOWN_CANONICAL = (
    "7\x1f" + "ab" * 32 + "\x1f2026-03-01 12:00:05.250000+00:00\x1flead.read\x1fsuccess\x1f"
    "user\x1f4f6c2a9e-0000-4000-8000-000000000001\x1fsales_rep\x1f\x00\x1freq-1\x1flead\x1f"
    'lead-1\x1f["email","phone"]\x1f\x00\x1f42\x1f{"alpha":"x","zeta":1}\x1f["lead-1"]\x1f'
    '[]\x1f["notes"]\x1f\x00'
).encode()
KNOWN_HASH = "c4ce0fab3d8aefc15d2277a0b90709317f11c1d034d49cfe06950ff35678bb1b"


def test_an_event_hashes_to_its_known_answer() -> None:
    assert chain.canonical(KNOWN_ROW) == KNOWN_CANONICAL
    assert hashlib.sha256(KNOWN_CANONICAL).hexdigest() == KNOWN_HASH
    assert chain.event_hash(KNOWN_ROW) == KNOWN_HASH


def test_stored_json_text_and_python_values_hash_alike_whatever_the_key_order() -> None:
    as_stored = dict(
        KNOWN_ROW,
        fields='["email", "phone"]',
        details='{"zeta": 1, "alpha": "x"}',
        subject_ids='["lead-1"]',
        fields_masked="[]",
        fields_denied='["notes"]',
        occurred_at="2026-03-01T12:00:05.250000+00:00",
    )
    reordered = dict(KNOWN_ROW, details={"alpha": "x", "zeta": 1})

    assert chain.event_hash(as_stored) == KNOWN_HASH
    assert chain.event_hash(reordered) == KNOWN_HASH


def test_a_time_without_zone_is_taken_as_utc() -> None:
    naive = dict(KNOWN_ROW, occurred_at=datetime(2026, 3, 1, 12, 0, 5, 250000))
    assert chain.event_hash(naive) == KNOWN_HASH


@pytest.fixture
def far_from_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local time zone set nine hours from UTC, so local time cannot pass
    for UTC."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_times_hash_as_utc_whatever_their_zone_or_the_machines(far_from_utc: None) -> None:
    tokyo = timezone(timedelta(hours=9))
    same_instant = [
        datetime(2026, 3, 1, 12, 0, 5, 250000),  # no zone: taken as UTC, not local time
        datetime(2026, 3, 1, 12, 0, 5, 250000, tzinfo=UTC),
        datetime(2026, 3, 1, 21, 0, 5, 250000, tzinfo=tokyo),
    ]

    for moment in same_instant:
        assert chain.event_hash(dict(KNOWN_ROW, occurred_at=moment)) == KNOWN_HASH


def test_the_first_event_follows_sixty_four_zeros() -> None:
    assert chain.GENESIS == "0" * 64


async def test_the_first_written_event_links_to_sixty_four_zeros() -> None:
    event = await record(Event("lead.read", Outcome.SUCCESS, Actor.operator()), now=START)
    assert event.seq == 1
    assert event.prev_hash == "0" * 64
    assert (await verify()).ok


def _every_column_event() -> Event:
    """An event that fills every chained column, so each can be edited from a real value."""
    actor = Actor(
        ActorType.USER,
        id=str(uuid.UUID(int=1)),
        role="sales_manager",
        session_id=str(uuid.UUID(int=2)),
        mfa_verified_at=START - timedelta(minutes=3),
    )
    return Event(
        "lead.read",
        Outcome.SUCCESS,
        actor,
        target=Target("lead", "lead-9"),
        fields=("email",),
        purpose="data_subject_request:1",
        details={"n": 1},
        subject_ids=("lead-9",),
        fields_masked=("phone",),
        fields_denied=("notes",),
        client="c" * 32,
    )


async def _write_three() -> None:
    token = bind_request_id("req-tamper")
    try:
        for n in range(3):
            await record(_every_column_event(), now=START + timedelta(seconds=n))
    finally:
        reset_request_id(token)


# column → (new value on SQLite, new value on PostgreSQL)
EDITS: dict[str, tuple[object, object]] = {
    "occurred_at": ("2026-03-02 12:00:01+00:00", START + timedelta(days=1)),
    "action": ("lead.updated", "lead.updated"),
    "outcome": ("failure", "failure"),
    "actor_type": ("api_key", "api_key"),
    "actor_id": (str(uuid.UUID(int=3)), str(uuid.UUID(int=3))),
    "actor_role": ("admin", "admin"),
    "session_id": (str(uuid.UUID(int=4)), str(uuid.UUID(int=4))),
    "request_id": ("req-other", "req-other"),
    "target_type": ("campaign", "campaign"),
    "target_id": ("lead-8", "lead-8"),
    "fields": ('["phone"]', '["phone"]'),
    "purpose": ("marketing", "marketing"),
    "mfa_age_seconds": (7, 7),
    "details": ('{"n":2}', '{"n":2}'),
    "subject_ids": ('["lead-8"]', '["lead-8"]'),
    "fields_masked": ('["email"]', '["email"]'),
    "fields_denied": ("[]", "[]"),
    "client": ("d" * 32, "d" * 32),
}


def test_every_hashed_column_has_a_tamper_case() -> None:
    assert set(EDITS) == set(chain.CHAINED) - {"seq", "prev_hash"}


@pytest.mark.parametrize("column", sorted(EDITS))
async def test_editing_any_hashed_column_is_named(column: str) -> None:
    await _write_three()
    db = connections.get("default")
    postgres = db.capabilities.dialect == "postgres"
    value = EDITS[column][1 if postgres else 0]
    mark = ("$1", "$2") if postgres else ("?", "?")
    await db.execute_query(
        f"UPDATE audit_event SET {column} = {mark[0]} WHERE seq = {mark[1]}",
        [value, 2],
    )

    result = await verify(from_seq=1, to_seq=3)

    assert result.problem is not None
    assert result.problem.seq == 2
    assert "altered" in result.problem.reason


async def test_setting_a_null_column_is_named() -> None:
    await record(Event("lead.read", Outcome.SUCCESS, Actor.operator()), now=START)
    await record(Event("lead.read", Outcome.SUCCESS, Actor.operator()), now=START)
    assert (await AuditEvent.get(seq=2)).purpose is None
    await AuditEvent.filter(seq=2).update(purpose="marketing")

    result = await verify()

    assert result.problem is not None
    assert result.problem.seq == 2


async def test_several_events_appended_together_index_all_their_subjects() -> None:
    from audit.events import record_many
    from audit.models import AuditSubject

    await record_many(
        [
            Event("lead.read", Outcome.SUCCESS, Actor.operator(), subject_ids=("a", "b")),
            Event("lead.read", Outcome.SUCCESS, Actor.operator(), subject_ids=("c",)),
        ],
        now=START,
    )

    rows = await AuditSubject.all().order_by("seq", "subject_id").values_list("seq", "subject_id")
    assert [tuple(r) for r in rows] == [(1, "a"), (1, "b"), (2, "c")]
    assert (await verify()).ok


async def test_a_checkpoint_is_due_exactly_when_the_interval_has_passed() -> None:
    from audit.models import AuditCheckpoint

    chain.configure(checkpoint_every=1000, checkpoint_minutes=60)
    try:
        await record(Event("a.b", Outcome.SUCCESS, Actor.operator()), now=START)
        before = START + timedelta(minutes=60) - timedelta(microseconds=1)
        await record(Event("a.b", Outcome.SUCCESS, Actor.operator()), now=before)
        await record(
            Event("a.b", Outcome.SUCCESS, Actor.operator()), now=START + timedelta(minutes=60)
        )
    finally:
        chain.configure(checkpoint_every=1000, checkpoint_minutes=60)

    checkpoints = await AuditCheckpoint.all().order_by("seq")
    assert [(c.seq, c.reason) for c in checkpoints] == [(1, "interval"), (3, "interval")]
