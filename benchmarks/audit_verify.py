"""Audit verification throughput: ``verify`` over N chained events, against a baseline that
only reads the same rows in the same batches (what verification costs beyond I/O).

    python -m benchmarks.audit_verify [--events 200000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime, timedelta

from tortoise import connections

from audit import chain
from audit.chain import CHAINED
from audit.events import Actor, ActorType, Event, Outcome, Target, _row
from audit.verify import BATCH, verify
from benchmarks.setup import open_database
from server.db import close_db

TARGET = 100_000
"""Events per second ``verify`` must reach."""


async def _fill(count: int) -> None:
    actor = Actor(ActorType.USER, id="8c0d6a56-3f2e-4a55-9b39-6a1f1b3e2c11", role="marketer")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    chain.configure(checkpoint_every=10_000, checkpoint_minutes=10**6)
    step = 1000
    for base in range(0, count, step):
        rows = [
            _row(
                Event(
                    "lead.read",
                    Outcome.SUCCESS,
                    actor,
                    target=Target("lead", f"{n:032x}"),
                    fields=("companyName", "id"),
                    fields_masked=("email",),
                    fields_denied=("phone",),
                    details={"subjects": 1},
                    client="5f1c" * 8,
                ),
                start + timedelta(milliseconds=n),
            )
            for n in range(base, min(base + step, count))
        ]
        await chain.append(rows, rows[-1].occurred_at)


async def _read_only() -> int:
    db = connections.get("default")
    columns = ", ".join(["hash", *CHAINED])
    mark = "$1" if db.capabilities.dialect == "postgres" else "?"
    after, total = 0, 0
    while True:
        _, rows = await db.execute_query(
            f"SELECT {columns} FROM audit_event WHERE seq > {mark} ORDER BY seq LIMIT {BATCH}",
            [after],
        )
        total += len(rows)
        if len(rows) < BATCH:
            return total
        after = int(rows[-1][1])


async def run(events: int, database_url: str | None) -> None:
    await open_database(database_url)
    try:
        started = time.perf_counter()
        await _fill(events)
        print(f"wrote {events} chained events in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        read = await _read_only()
        read_seconds = time.perf_counter() - started
        started = time.perf_counter()
        result = await verify()
        verify_seconds = time.perf_counter() - started
    finally:
        await close_db()
    if not result.ok:
        raise SystemExit(f"the chain did not verify: {result.problem}")
    rate = result.events_checked / verify_seconds
    print(f"baseline (read the rows only): {read / read_seconds:,.0f} events/s")
    print(f"verify (hash chain + {result.checkpoints_checked} checkpoints): {rate:,.0f} events/s")
    print(f"verify/baseline throughput = {read_seconds / verify_seconds:.2f}")
    verdict = "meets" if rate >= TARGET else "MISSES"
    print(f"{verdict} the {TARGET:,} events/s target")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--database-url", help="an empty database to fill (default: SQLite)")
    args = parser.parse_args()
    asyncio.run(run(args.events, args.database_url))


if __name__ == "__main__":
    main()
