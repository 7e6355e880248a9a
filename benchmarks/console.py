"""Console page times at scale (default: 10,000 data-subject requests, 1,000,000 audit
events): the request queue and the audit search, first pages, filtered pages and a second
page, each served in full (session, query, template) through the app in this process,
against the page's own SQL statement hand-written and timed in the same run.

    .venv/bin/python -m benchmarks.console [--requests N] [--events N] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from tortoise import connections

from audit import chain
from audit.events import Actor, ActorType, Event, Outcome, Target, _row
from benchmarks.setup import active_session, open_database
from compliance.dsr.models import DataSubjectRequest, Jurisdiction, RequestKind, RequestStatus
from core.bulk import insert_rows
from identity.roles import Role
from server.app import create_app
from server.console.session import DEV_COOKIE
from server.db import close_db

RUNS = 15
NOW = datetime.now(UTC)
ACTIONS = ("lead.read", "lead.read", "lead.updated", "auth.login.succeeded", "dsr.received")


async def fill_events(count: int) -> str:
    """Chained events of a realistic mix; returns one lead id that appears as a subject."""
    chain.configure(checkpoint_every=10_000, checkpoint_minutes=10**6)
    rng = random.Random(7)
    leads = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(5000)]
    start = NOW - timedelta(days=365)
    step = 1000
    for base in range(0, count, step):
        rows = []
        for n in range(base, min(base + step, count)):
            action = ACTIONS[n % len(ACTIONS)]
            lead = leads[n % len(leads)]
            rows.append(
                _row(
                    Event(
                        action,
                        Outcome.DENIED if n % 997 == 0 else Outcome.SUCCESS,
                        Actor(ActorType.USER, id=f"user-{n % 40}", role="sales_rep"),
                        target=Target("lead", lead) if action.startswith("lead") else None,
                        fields=("companyName", "id"),
                        subject_ids=(lead,) if action.startswith("lead") else (),
                        details={"subjects": 1},
                    ),
                    start + timedelta(seconds=n * 30),
                )
            )
        await chain.append(rows, rows[-1].occurred_at)
    return leads[0]


async def fill_requests(count: int) -> None:
    rng = random.Random(11)
    columns = (
        "id", "kind", "jurisdiction", "status", "channel", "received_at", "first_due_at",
        "due_at", "code_attempts", "created_at", "updated_at",
    )  # fmt: skip
    rows = []
    for _ in range(count):
        received = NOW - timedelta(days=rng.uniform(0, 400))
        due = received + timedelta(days=30)
        rows.append(
            [uuid.uuid4(), rng.choice(list(RequestKind)), rng.choice(list(Jurisdiction)),
             rng.choice(list(RequestStatus)), "email", received, due, due, 0, received, received]
        )  # fmt: skip
    await insert_rows(DataSubjectRequest, columns, rows)


async def timed(call: Any) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(RUNS):
        started = time.perf_counter()
        result = await call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, result


async def main(requests: int, events: int, database_url: str | None) -> None:
    settings = await open_database(database_url)
    try:
        db = connections.get("default")
        pg = db.capabilities.dialect == "postgres"
        started = time.perf_counter()
        subject = await fill_events(events)
        await fill_requests(requests)
        await db.execute_script("ANALYZE")
        print(f"database:         {settings.database_label}")
        print(
            f"data set:         {requests:,} requests, {events:,} audit events "
            f"(built in {time.perf_counter() - started:.0f} s)"
        )
        officer = await active_session(Role.COMPLIANCE_OFFICER)
        auditor = await active_session(Role.AUDITOR)
        app = create_app(settings, manage_database=False)
        transport = httpx.ASGITransport(app=app)
        unverified = "('received', 'identity_pending')"
        limit = "LIMIT 51"
        soon = (NOW + timedelta(days=7)).isoformat(sep=" ")
        mark = "$1" if pg else "?"
        pages = [
            ("queue, first page", officer, "/console/requests",
             f"SELECT * FROM dsr_request WHERE status NOT IN {unverified} "
             f"ORDER BY due_at, id {limit}", []),
            ("queue, CCPA erasures", officer, "/console/requests?kind=erasure&jurisdiction=ccpa",
             "SELECT * FROM dsr_request WHERE status NOT IN " + unverified + " AND kind = "
             f"'erasure' AND jurisdiction = 'ccpa' ORDER BY due_at, id {limit}", []),
            ("queue, due soon", officer, "/console/requests?alert=due_soon",
             "SELECT * FROM dsr_request WHERE status NOT IN ('completed', 'rejected') AND "
             f"due_at <= {mark} ORDER BY due_at, id {limit}", [soon]),
            ("audit, first page", auditor, "/console/audit",
             f"SELECT * FROM audit_event WHERE seq IS NOT NULL ORDER BY seq DESC {limit}", []),
            ("audit, action auth.", auditor, "/console/audit?action=auth.",
             "SELECT * FROM audit_event WHERE seq IS NOT NULL AND action LIKE 'auth.%' "
             f"ORDER BY seq DESC {limit}", []),
            ("audit, one subject", auditor, f"/console/audit?subject={subject}",
             "SELECT * FROM audit_event WHERE seq IN (SELECT seq FROM audit_subject WHERE "
             f"subject_id = {mark}) ORDER BY seq DESC {limit}", [subject]),
            ("audit, denied", auditor, "/console/audit?outcome=denied",
             "SELECT * FROM audit_event WHERE seq IS NOT NULL AND outcome = 'denied' "
             f"ORDER BY seq DESC {limit}", []),
        ]  # fmt: skip
        print(f"{'page':<24} {'page ms':>9} {'SQL ms':>8} {'ratio':>7}")
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            for name, token, path, sql, values in pages:
                http.cookies.set(DEV_COOKIE, token)

                async def page(path: str = path) -> httpx.Response:
                    return await http.get(path)

                async def statement(sql: str = sql, values: list[Any] = values) -> Any:
                    return await db.execute_query(sql, values)

                await page()
                ours, answer = await timed(page)
                assert answer.status_code == 200, (name, answer.status_code)
                base, _ = await timed(statement)
                print(f"{name:<24} {ours:>9.1f} {base:>8.1f} {ours / base:>6.1f}x")
                following = re.search(
                    r'href="(/console/[^"?]+\?[^"]*after=[^"]+)" rel="next"', answer.text
                )
                if following:
                    link = following.group(1).replace("&amp;", "&")

                    async def next_page(link: str = link) -> httpx.Response:
                        return await http.get(link)

                    later, second = await timed(next_page)
                    assert second.status_code == 200
                    print(f"{'  its second page':<24} {later:>9.1f}")
        print(f"(median of {RUNS} requests each; a page is the whole response: session, query, "
              "template)")  # fmt: skip
    finally:
        await close_db()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.events, args.database_url))
