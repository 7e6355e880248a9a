"""Appending to the hash chain.

Every event gets the next sequence number and the previous event's hash, and its own hash
is SHA-256 over its canonical form (which includes both). Appends from any number of
processes take turns on the single ``audit_head`` row: the first statement of an append
increments the head's sequence number (``UPDATE … RETURNING``), which locks that row (on
PostgreSQL) or the database (on SQLite) until the surrounding transaction ends, so two
appends can never take the same number or fork the chain. The events are written in the
caller's transaction: a change and its event commit together or not at all.

Every :data:`settings.checkpoint_every` events, or when the last checkpoint is older than
:data:`settings.checkpoint_minutes`, the append also writes a checkpoint: the head's
sequence number and hash signed with Ed25519.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import TransactionalDBClient
from tortoise.transactions import in_transaction

from audit import deferred, signing
from audit.group import append_in_group
from audit.models import AuditCheckpoint, AuditEvent
from core import metrics
from core.bulk import insert_rows, insert_values, marks

GENESIS = "0" * 64
CHAINED = (
    "seq",
    "prev_hash",
    "occurred_at",
    "action",
    "outcome",
    "actor_type",
    "actor_id",
    "actor_role",
    "session_id",
    "request_id",
    "target_type",
    "target_id",
    "fields",
    "purpose",
    "mfa_age_seconds",
    "details",
    "subject_ids",
    "fields_masked",
    "fields_denied",
    "client",
)
"""The columns an event's hash covers, in order (``fields`` is the column of
``AuditEvent.fields_touched``)."""
JSON_COLUMNS = frozenset({"fields", "details", "subject_ids", "fields_masked", "fields_denied"})
SEPARATOR = "\x1f"
NULL = "\x00"


@dataclass
class ChainSettings:
    checkpoint_every: int = 1000
    checkpoint_minutes: int = 60


settings = ChainSettings()


def configure(checkpoint_every: int, checkpoint_minutes: int) -> None:
    settings.checkpoint_every = checkpoint_every
    settings.checkpoint_minutes = checkpoint_minutes


@lru_cache(maxsize=4096)
def _canonical_json(text: str) -> str:
    """Stored JSON text in canonical form (cached: most columns repeat a few values)."""
    return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))


def _text(name: str, value: Any) -> str:
    if value is None:
        return NULL
    if name in JSON_COLUMNS:
        if isinstance(value, str):
            return _canonical_json(value)
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    if name == "occurred_at":
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return str(moment.astimezone(UTC))
    return str(value)


def canonical(row: Mapping[str, Any]) -> bytes:
    """The bytes an event's hash is taken over: each chained column as text, separated by
    the ASCII unit separator. JSON columns are compact with sorted keys; the time is
    ``str()`` of the UTC datetime. (That is also how SQLite stores them, so verification
    can hash a stored SQLite row as text without parsing it.)"""
    return SEPARATOR.join(_text(name, row[name]) for name in CHAINED).encode()


def event_hash(row: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(row)).hexdigest()


def _as_row(event: AuditEvent) -> dict[str, Any]:
    values = {name: getattr(event, name) for name in CHAINED if name != "fields"}
    values["fields"] = event.fields_touched
    return values


def _param(dialect: str, moment: datetime) -> datetime | str:
    return moment if dialect == "postgres" else moment.astimezone(UTC).isoformat()


async def _take_numbers(count: int) -> tuple[int, str, int, datetime | None]:
    """Reserve ``count`` sequence numbers: (first - 1, previous hash, last checkpoint seq,
    last checkpoint time). Locks the head until the transaction ends."""
    db = connections.get("default")
    dialect = db.capabilities.dialect
    p = marks(dialect, 2)
    take = (
        f"UPDATE audit_head SET seq = seq + {p[0]} WHERE id = 1 "  # noqa: S608 - placeholders
        "RETURNING seq, hash, checkpoint_seq, checkpoint_at"
    )
    rows = await db.execute_query_dict(take, [count])
    if not rows:
        await db.execute_query(
            f"INSERT INTO audit_head (id, seq, hash, checkpoint_seq) "  # noqa: S608
            f"VALUES (1, 0, {p[0]}, 0) ON CONFLICT (id) DO NOTHING",
            [GENESIS],
        )
        rows = await db.execute_query_dict(take, [count])
    row = rows[0]
    at = row["checkpoint_at"]
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return int(row["seq"]) - count, str(row["hash"]), int(row["checkpoint_seq"]), at


_EVENT_COLUMNS = [n for n in AuditEvent._meta.fields_db_projection if n != "id"]
MAX_PARAMS = 30_000
"""Values one PostgreSQL statement may carry here (the protocol allows 32,767)."""
SUBJECT_ROWS_PER_STATEMENT = 1000


async def _index_subjects(subjects: Sequence[Sequence[Any]]) -> None:
    """The subject index rows, as few multi-row statements (one for a page of leads)."""
    db = connections.get("default")
    dialect = db.capabilities.dialect
    for start in range(0, len(subjects), SUBJECT_ROWS_PER_STATEMENT):
        chunk = subjects[start : start + SUBJECT_ROWS_PER_STATEMENT]
        marks_ = iter(marks(dialect, 2 * len(chunk)))
        rows = ", ".join(f"({next(marks_)}, {next(marks_)})" for _ in chunk)
        await db.execute_query(
            f"INSERT INTO audit_subject (seq, subject_id) VALUES {rows}",  # noqa: S608
            [value for row in chunk for value in row],
        )


async def append(events: Sequence[AuditEvent], now: datetime) -> None:
    """Number, chain and write ``events`` (built but not saved): in the caller's
    transaction if there is one (when it commits, on the server's clients:
    :mod:`audit.deferred`), otherwise with the next group (:mod:`audit.group`)."""
    if not events:
        return
    connection = connections.get("default")
    waiting = deferred.pending(connection)
    if waiting is not None:
        waiting.extend((event, now) for event in events)
    elif isinstance(connection, TransactionalDBClient):
        await _write(events, now)
    else:
        await append_in_group(events, now, _write)


async def _write(events: Sequence[AuditEvent], now: datetime) -> None:
    """Number, chain and insert ``events`` in the transaction under way (timed, and
    counted when it fails, for ``/metrics``; every way of appending ends here)."""
    started = time.perf_counter()
    try:
        await _number_and_insert(events, now)
    except Exception:
        metrics.AUDIT_APPEND_FAILURES.inc()
        raise
    metrics.AUDIT_APPEND_SECONDS.observe(time.perf_counter() - started)


async def _number_and_insert(events: Sequence[AuditEvent], now: datetime) -> None:
    start, previous, checkpoint_seq, checkpoint_at = await _take_numbers(len(events))
    subjects: list[list[Any]] = []
    for offset, event in enumerate(events, start=1):
        event.seq = start + offset
        event.prev_hash = previous
        event.occurred_at = event.occurred_at.astimezone(UTC)
        event.hash = event_hash(_as_row(event))
        previous = event.hash
        subjects += [[event.seq, subject] for subject in event.subject_ids]
    last = start + len(events)
    due = (
        last - checkpoint_seq >= settings.checkpoint_every
        or checkpoint_at is None
        or now - checkpoint_at >= timedelta(minutes=settings.checkpoint_minutes)
    )
    if due:
        await sign_checkpoint(last, previous, now, "interval")
    db = connections.get("default")
    dialect = db.capabilities.dialect
    head = ["hash"] + (["checkpoint_seq", "checkpoint_at"] if due else [])
    head_values: list[Any] = [previous] + ([last, _param(dialect, now)] if due else [])
    rows = [[getattr(e, n) for n in _EVENT_COLUMNS] for e in events]
    if dialect == "postgres" and len(_EVENT_COLUMNS) * len(rows) + 2 * len(subjects) < MAX_PARAMS:
        await _write_in_one_statement(db, rows, subjects, head, head_values)
        return
    await insert_rows(AuditEvent, _EVENT_COLUMNS, rows)
    await _index_subjects(subjects)
    p = marks(dialect, len(head))
    assignments = ", ".join(f"{name} = {mark}" for name, mark in zip(head, p, strict=True))
    await db.execute_query(
        f"UPDATE audit_head SET {assignments} WHERE id = 1",  # noqa: S608 - names fixed here
        head_values,
    )


async def _write_in_one_statement(
    db: Any,
    rows: list[list[Any]],
    subjects: list[list[Any]],
    head: list[str],
    head_values: list[Any],
) -> None:
    """On PostgreSQL, the events, their subject index and the new head as one statement
    (data-modifying ``WITH``): the head, locked since the numbers were taken, is held for
    one round trip and the commit rather than three."""
    events_sql, values = insert_values(AuditEvent, _EVENT_COLUMNS, rows)
    parts = [f"events AS ({events_sql})"]
    if subjects:
        p = iter(marks("postgres", 2 * len(subjects), len(values) + 1))
        index = ", ".join(f"({next(p)}, {next(p)})" for _ in subjects)
        parts.append(
            f"subjects AS (INSERT INTO audit_subject (seq, subject_id) VALUES {index})"  # noqa: S608
        )
        values += [value for row in subjects for value in row]
    p_head = marks("postgres", len(head), len(values) + 1)
    assignments = ", ".join(f"{name} = {mark}" for name, mark in zip(head, p_head, strict=True))
    await db.execute_query(
        f"WITH {', '.join(parts)} UPDATE audit_head SET {assignments} WHERE id = 1",  # noqa: S608
        [*values, *head_values],
    )


deferred.install_writer(_write)


async def sign_checkpoint(seq: int, head_hash: str, now: datetime, reason: str) -> AuditCheckpoint:
    version, signature = await signing.sign(seq, head_hash, now)
    return await AuditCheckpoint.create(
        seq=seq,
        head_hash=head_hash,
        created_at=now,
        key_version=version,
        signature=signature,
        reason=reason,
    )


async def checkpoint_now(now: datetime, reason: str = "manual") -> AuditCheckpoint | None:
    """Sign the current head (``leadvault audit checkpoint``, and the retention cut), unless
    it is already signed; None for an empty log."""
    async with in_transaction("default"):
        start, head_hash, _, _ = await _take_numbers(0)
        if start == 0:
            return None
        existing = await AuditCheckpoint.filter(seq=start).first()
        if existing is not None:
            return existing
        made = await sign_checkpoint(start, head_hash, now, reason)
        db = connections.get("default")
        p = marks(db.capabilities.dialect, 2)
        await db.execute_query(
            f"UPDATE audit_head SET checkpoint_seq = {p[0]}, checkpoint_at = {p[1]} "  # noqa: S608
            "WHERE id = 1",
            [start, _param(db.capabilities.dialect, now)],
        )
        return made
