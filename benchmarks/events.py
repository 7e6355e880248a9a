"""Commit-to-delivery latency of events: lead events committed at a steady rate (default
100 per second for 60 s), each in its own transaction as a change would write it, delivered
(1) by the worker's delivery loop to a webhook receiver on a loopback address and (2) by the
API server (uvicorn on a loopback port, in this process) to 50 WebSocket subscribers in
another process (:mod:`benchmarks.subscribers`), each payload resolved and audited as a
query. Reports p50, p99 and the largest latency, and how many events never arrived. The
baseline, measured in the same run: the same bodies posted straight to the receiver at
commit, with no outbox between.

    .venv/bin/python -m benchmarks.events [--rate N] [--seconds S] [--subscribers N]
        [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import threading
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpcore
import uvicorn
from tortoise.transactions import in_transaction

from benchmarks.setup import active_session, open_database
from compliance.events import endpoints
from compliance.events.addresses import networks
from compliance.events.delivery import DeliveryOptions, Dispatcher
from compliance.events.emit import emit, lead_event
from compliance.events.models import WebhookAttempt
from compliance.events.types import EventType
from identity.admin import OPERATOR
from identity.models import Team
from identity.policy import AuthPolicy
from identity.roles import Role
from leads.enums import Source
from leads.models import Lead
from server.app import create_app
from server.db import close_db
from server.settings import Settings

DRAIN_SECONDS = 30


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # the standard library's 5 drops bursts of connections
    daemon_threads = True


class Arrivals:
    """A receiver on 127.0.0.1 noting when each webhook-id first arrived."""

    def __init__(self) -> None:
        self.first: dict[str, float] = {}
        self.lock = threading.Lock()
        arrivals = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", "0")))
                at = time.time()
                with arrivals.lock:
                    arrivals.first.setdefault(self.headers.get("webhook-id", ""), at)
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"


async def produce(
    rate: int, seconds: int, leads: list[uuid.UUID], committed: dict[str, float]
) -> None:
    """Commit ``rate`` events a second, one transaction each, on a fixed timetable."""
    started = time.monotonic()
    for n in range(rate * seconds):
        due = started + n / rate
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        async with in_transaction("default"):
            [event] = await emit(
                [lead_event(EventType.LEAD_ASSIGNED, leads[n % len(leads)])], datetime.now(UTC)
            )
        committed[str(event.id)] = time.time()


async def some_leads(count: int, team_id: int) -> list[uuid.UUID]:
    """Leads of one team, without personal data (the payloads ask for id and stage)."""
    now = datetime.now(UTC)
    rows = [
        await Lead.create(
            source=Source.API, team_id=team_id, created_at=now, updated_at=now,
            stage_entered_at=now,
        )
        for _ in range(count)
    ]  # fmt: skip
    return [row.id for row in rows]


async def serve(settings: Settings) -> tuple[uvicorn.Server, asyncio.Task[None], Any]:
    """The API on a loopback port in this process (its hub hears this process's commits)."""
    app = create_app(settings, manage_database=False)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_config=None)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - until uvicorn says so
        await asyncio.sleep(0.01)
    return server, task, app


async def subscribers(port: int, tokens: list[str]) -> asyncio.subprocess.Process | None:
    if not tokens:
        return None
    clients = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks.subscribers",
        f"ws://127.0.0.1:{port}/graphql",
        *tokens,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        limit=256 * 1024 * 1024,  # the arrival times come back as one line
    )
    assert clients.stdout is not None
    assert json.loads(await clients.stdout.readline()) == {"ready": True}
    return clients


async def direct(rate: int, seconds: int, url: str, arrivals: Arrivals) -> dict[str, float]:
    """The baseline: post each body straight to the receiver as it is made."""
    sent: dict[str, float] = {}
    async with httpcore.AsyncConnectionPool(max_connections=16) as pool:
        started = time.monotonic()
        tasks = []
        for n in range(rate * seconds):
            due = started + n / rate
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            message_id = f"direct-{n}"
            sent[message_id] = time.time()
            tasks.append(
                asyncio.create_task(
                    pool.request(
                        "POST", url, headers=[(b"webhook-id", message_id.encode())], content=b"{}"
                    )
                )
            )
        await asyncio.gather(*tasks)
    return {k: arrivals.first[k] - v for k, v in sent.items() if k in arrivals.first}


def describe(name: str, latencies: list[float], total: int) -> float:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) if ordered else float("nan")
    p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)] if ordered else float("nan")
    worst = ordered[-1] if ordered else float("nan")
    lost = total - len(ordered)
    print(
        f"{name:<28} p50 {p50 * 1000:8.1f} ms   p99 {p99 * 1000:8.1f} ms   "
        f"max {worst * 1000:8.1f} ms   delivered {len(ordered)}/{total}   lost {lost}"
    )
    return p99


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--subscribers", type=int, default=50)
    parser.add_argument("--poll-ms", type=int, default=200)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    settings = replace(
        await open_database(args.database_url),
        subscription_events_per_second=max(20, args.rate * 2),
        subscription_session_check_seconds=30,
    )
    arrivals = Arrivals()
    team = await Team.create(name="Benchmark")
    leads = await some_leads(100, team.id)
    tokens = [await active_session(Role.SALES_MANAGER, team.id) for _ in range(args.subscribers)]
    server, serving, app = await serve(settings)
    port = server.servers[0].sockets[0].getsockname()[1]
    clients = await subscribers(port, tokens)
    try:
        while len(app.state.events.subscribers) < args.subscribers:  # noqa: ASYNC110 - bounded
            await asyncio.sleep(0.05)
        await endpoints.create(
            OPERATOR, arrivals.url, [], "benchmark receiver", AuthPolicy(), allow_http=True
        )
        dispatcher = Dispatcher(DeliveryOptions(allow=networks("127.0.0.1/32")))
        stop = asyncio.Event()
        loop = asyncio.create_task(dispatcher.run(stop, args.poll_ms / 1000))
        committed: dict[str, float] = {}
        await produce(args.rate, args.seconds, leads, committed)
        deadline = time.monotonic() + DRAIN_SECONDS
        while time.monotonic() < deadline and not committed.keys() <= arrivals.first.keys():  # noqa: ASYNC110 - bounded
            await asyncio.sleep(0.1)
        hub = app.state.events
        while time.monotonic() < deadline + DRAIN_SECONDS and any(  # noqa: ASYNC110 - bounded
            not one.queue.empty() for one in hub.subscribers
        ):
            await asyncio.sleep(0.1)
        await asyncio.sleep(2)  # the payloads being resolved and sent when the queues emptied
        stop.set()
        await loop
        await dispatcher.close()
        received: list[dict[str, float]] = []
        if clients is not None:
            assert clients.stdin is not None
            assert clients.stdout is not None
            clients.stdin.close()
            received = json.loads(await clients.stdout.readline())
            await clients.wait()
        retried = await WebhookAttempt.exclude(status_code=204).values_list("error", flat=True)
        total = len(committed)
        print(
            f"{total} events at {args.rate}/s for {args.seconds} s; delivery loop polling every "
            f"{args.poll_ms} ms; {args.subscribers} subscribers; "
            f"{'PostgreSQL' if args.database_url else 'SQLite'}"
        )
        through = describe(
            "commit → webhook delivered",
            [arrivals.first[k] - v for k, v in committed.items() if k in arrivals.first],
            total,
        )
        if clients is not None:
            describe(
                f"commit → {args.subscribers} subscribers",
                [one[k] - v for one in received for k, v in committed.items() if k in one],
                total * args.subscribers,
            )
        resyncs = sum(1 for one in received if "resync" in one)
        print(f"subscribers told to resync: {resyncs}; webhook attempts failed: {len(retried)}")
        baseline = await direct(args.rate, args.seconds, arrivals.url, arrivals)
        plain = describe("baseline: direct post", list(baseline.values()), args.rate * args.seconds)
        print(f"webhook p99 ratio (outbox / direct post): {through / plain:.1f}x")
    finally:
        if clients is not None and clients.returncode is None:
            clients.kill()
            await clients.wait()
        server.should_exit = True
        await serving
        await app.state.events.close()
        arrivals.server.shutdown()
        await close_db()


if __name__ == "__main__":
    asyncio.run(main())
