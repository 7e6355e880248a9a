"""Checking the chain: every event's hash, its link to the one before, gapless sequence
numbers, and every checkpoint's signature and head. The first problem found is named by
its sequence number; verification reads events in batches and holds only one in memory.

What each kind of tampering looks like here:
- an edited event: its hash no longer matches its content;
- a deleted event: a gap in the sequence numbers;
- an inserted event: a gap or duplicate it cannot fill without breaking the next link, or
  a row with no sequence number at all;
- reordered events: a link (``prev_hash``) that does not match the event before;
- a truncated tail: a checkpoint, or the head row, beyond the last event.
Rewriting the whole chain after an edit is caught by the first signed checkpoint after it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from hashlib import sha256
from typing import Any

from tortoise import connections

from audit import signing
from audit.chain import CHAINED, GENESIS, NULL, SEPARATOR, canonical
from audit.models import AuditCheckpoint, AuditHead

BATCH = 5000


@dataclass(frozen=True, slots=True)
class Problem:
    seq: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class Verification:
    events_checked: int
    first_seq: int | None
    last_seq: int | None
    checkpoints_checked: int
    last_checkpoint_seq: int | None
    last_checkpoint_at: datetime | None
    problem: Problem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


async def _rows(from_seq: int, to_seq: int | None) -> AsyncIterator[Sequence[Any]]:
    """Rows as tuples: ``hash`` then the :data:`CHAINED` columns."""
    db = connections.get("default")
    postgres = db.capabilities.dialect == "postgres"
    mark = (lambda i: f"${i}") if postgres else (lambda i: "?")
    if postgres:
        columns = ", ".join(["hash", *CHAINED])
    else:  # every column as text, NULL as the canonical marker: hashed without parsing
        columns = ", ".join(["hash", *(f"COALESCE(CAST({c} AS TEXT), char(0))" for c in CHAINED)])
    after = from_seq - 1
    while True:
        params: list[Any] = [after]
        bound = ""
        if to_seq is not None:
            bound = f" AND seq <= {mark(2)}"
            params.append(to_seq)
        _, rows = await db.execute_query(
            f"SELECT {columns} FROM audit_event WHERE seq > {mark(1)}{bound} "  # noqa: S608
            f"ORDER BY seq LIMIT {BATCH}",
            params,
        )
        for row in rows:
            yield row
        if len(rows) < BATCH:
            return
        after = int(rows[-1][1])


def _matches(row: Sequence[Any]) -> bool:
    values = row[1:]
    if values[0].__class__ is str:  # SQLite: stored text is already canonical
        if sha256(SEPARATOR.join(values).encode()).hexdigest() == row[0]:
            return True
        values = [None if v == NULL else v for v in values]
    return sha256(canonical(dict(zip(CHAINED, values, strict=True)))).hexdigest() == row[0]


async def _check_subject_index(db: Any) -> Problem | None:
    """The subject index (outside the chain, for access reports) must list exactly the
    subjects the chained events name: a row removed from it would hide an access."""
    length = (
        "jsonb_array_length(subject_ids::jsonb)"
        if db.capabilities.dialect == "postgres"
        else "json_array_length(subject_ids)"
    )
    named = await db.execute_query_dict(
        f"SELECT COALESCE(SUM({length}), 0) AS n FROM audit_event"  # noqa: S608
    )
    indexed = await db.execute_query_dict("SELECT COUNT(*) AS n FROM audit_subject")
    if int(named[0]["n"]) != int(indexed[0]["n"]):
        return Problem(None, "the subject index does not match the subjects the events name")
    return None


async def verify(
    from_seq: int | None = None,
    to_seq: int | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> Verification:
    db = connections.get("default")
    unnumbered = await db.execute_query_dict(
        "SELECT MIN(id) AS id, COUNT(*) AS n FROM audit_event WHERE seq IS NULL"
    )
    bounds = (
        await db.execute_query_dict("SELECT MIN(seq) AS lo, MAX(seq) AS hi FROM audit_event")
    )[0]
    lowest = int(bounds["lo"]) if bounds["lo"] is not None else None
    highest = int(bounds["hi"]) if bounds["hi"] is not None else None
    checkpoints = await AuditCheckpoint.all().order_by("seq")
    head = await AuditHead.filter(id=1).first()
    start = max(from_seq or 1, lowest or 1)
    checked = 0
    problem: Problem | None = None
    if int(unnumbered[0]["n"]):
        problem = Problem(None, f"event id {unnumbered[0]['id']} has no sequence number")
    checkpoint_hashes = {c.seq: c for c in checkpoints}
    keys = await signing.public_keys() if checkpoints else {}
    for checkpoint in checkpoints:
        if problem is None and not signing.signature_valid(
            keys,
            checkpoint.key_version,
            checkpoint.signature,
            checkpoint.seq,
            checkpoint.head_hash,
            checkpoint.created_at,
        ):
            problem = Problem(checkpoint.seq, "the checkpoint's signature does not verify")
    expected_prev: str | None = None
    if problem is None and lowest is not None:
        if start == 1:
            expected_prev = GENESIS
        elif start == lowest and (anchor := checkpoint_hashes.get(start - 1)) is not None:
            expected_prev = anchor.head_hash
        elif start == lowest:
            problem = Problem(
                start, f"events before seq {start} are gone and no checkpoint anchors the cut"
            )
        else:
            found = await db.execute_query_dict(
                "SELECT hash FROM audit_event WHERE seq = "  # noqa: S608
                + ("$1" if db.capabilities.dialect == "postgres" else "?"),
                [start - 1],
            )
            expected_prev = found[0]["hash"] if found else None
            if expected_prev is None:
                problem = Problem(start - 1, f"event seq {start - 1} is missing")
    last_seq = start - 1
    if problem is None and lowest is not None:
        async for row in _rows(start, to_seq):
            seq = int(row[1])
            if seq != last_seq + 1:
                problem = Problem(last_seq + 1, f"event seq {last_seq + 1} is missing")
                break
            if row[2] != expected_prev:
                problem = Problem(seq, f"event seq {seq} does not follow the event before it")
                break
            if not _matches(row):
                problem = Problem(seq, f"event seq {seq} was altered after it was written")
                break
            anchor = checkpoint_hashes.get(seq)
            if anchor is not None and anchor.head_hash != row[0]:
                problem = Problem(seq, f"event seq {seq} differs from the signed checkpoint")
                break
            expected_prev = row[0]
            last_seq = seq
            checked += 1
            if on_progress is not None and checked % 1000 == 0:
                on_progress(1000)
    if on_progress is not None and checked % 1000:
        on_progress(checked % 1000)
    if problem is None and to_seq is None:
        end = highest or 0
        beyond = [c.seq for c in checkpoints if c.seq > end]
        if beyond:
            problem = Problem(
                end + 1, f"events after seq {end} are missing (checkpoint at seq {beyond[-1]})"
            )
        elif head is not None and head.seq > end:
            problem = Problem(
                end + 1, f"events after seq {end} are missing (the head is at seq {head.seq})"
            )
        elif head is not None and head.seq < end:
            problem = Problem(
                head.seq + 1, f"event seq {head.seq + 1} was added outside the recorder"
            )
    if problem is None and from_seq is None and to_seq is None:
        problem = await _check_subject_index(db)
    latest = checkpoints[-1] if checkpoints else None
    return Verification(
        events_checked=checked,
        first_seq=start if checked else None,
        last_seq=last_seq if checked else None,
        checkpoints_checked=len(checkpoints),
        last_checkpoint_seq=latest.seq if latest else None,
        last_checkpoint_at=latest.created_at if latest else None,
        problem=problem,
    )
