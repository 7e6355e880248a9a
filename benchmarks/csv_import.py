"""CSV import of 100,000 leads with per-row consent (target: under a minute on SQLite).

Prints the import's time and rows/s, and a baseline measured in the same run: the same file
parsed and inserted as plain rows into a scratch table with one ``executemany`` (no
validation, encryption, blind indexes, merging or consent ledger), with the ratio.

    .venv/bin/python -m benchmarks.csv_import [--rows N] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import random
import time

from tortoise import connections

from audit.events import Actor
from benchmarks.setup import open_database
from leads.importer import import_csv
from server.db import close_db


def make_csv(rows: int, seed: int = 11) -> str:
    """``rows`` rows, about 2% repeating an earlier email (merged), consent columns set."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "email",
            "first_name",
            "last_name",
            "company_name",
            "job_title",
            "country",
            "consent_email_marketing",
            "consent_third_party_sharing",
            "consent_at",
        ]
    )
    for n in range(rows):
        person = rng.randrange(n) if n and rng.random() < 0.02 else n
        writer.writerow(
            [
                f"person{person}@example.com",
                f"First{person}",
                f"Last{person}",
                f"Company {person % 5000}",
                "Head of Operations",
                rng.choice(["DE", "GB", "FR", "US", "NL"]),
                rng.choice(["yes", "no", ""]),
                rng.choice(["no", ""]),
                "2026-03-01T10:00:00+00:00",
            ]
        )
    return out.getvalue()


async def baseline(text: str) -> float:
    db = connections.get("default")
    await db.execute_script(
        "CREATE TABLE bench_plain (email TEXT, first_name TEXT, last_name TEXT, "
        "company_name TEXT, job_title TEXT, country TEXT, c1 TEXT, c2 TEXT, at TEXT)"
    )
    started = time.perf_counter()
    reader = csv.reader(io.StringIO(text))
    next(reader)
    rows = list(reader)
    postgres = db.capabilities.dialect == "postgres"
    marks = ", ".join(f"${i}" if postgres else "?" for i in range(1, 10))
    await db.execute_many(f"INSERT INTO bench_plain VALUES ({marks})", rows)
    return time.perf_counter() - started


async def main(rows: int, database_url: str | None) -> None:
    await open_database(database_url)
    try:
        text = make_csv(rows)
        base = await baseline(text)
        started = time.perf_counter()
        report = await import_csv(io.StringIO(text), Actor.operator())
        took = time.perf_counter() - started
    finally:
        await close_db()
    print(f"rows in file:           {rows:,}")
    print(
        f"imported:               {report.created:,} new leads, "
        f"{len(report.merged_in_file):,} merged, {report.consent_events:,} consent events"
    )
    print(f"import:                 {took:.1f} s ({rows / took:,.0f} rows/s)")
    print(f"baseline (plain insert): {base:.2f} s ({rows / base:,.0f} rows/s)")
    print(f"import / baseline:      {took / base:.1f}x the time (target: import under 60 s)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    asyncio.run(main(args.rows, args.database_url))
