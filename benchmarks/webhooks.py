"""Commit-to-delivery latency of webhooks: events committed at a steady rate (default 100
per second for 60 s), each in its own transaction as a change would write it, delivered by
the worker's delivery loop to a receiver on a loopback address. Reports p50, p99 and the
largest latency, and how many events never arrived. The baseline, measured in the same
run: the same bodies posted straight to the receiver at commit, with no outbox between.

    .venv/bin/python -m benchmarks.webhooks [--rate N] [--seconds S] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpcore
from tortoise.transactions import in_transaction

from benchmarks.setup import open_database
from compliance.events import endpoints
from compliance.events.addresses import networks
from compliance.events.delivery import DeliveryOptions, Dispatcher
from compliance.events.emit import emit, lead_event
from compliance.events.models import WebhookAttempt
from compliance.events.types import EventType
from identity.admin import OPERATOR
from identity.policy import AuthPolicy
from server.db import close_db

DRAIN_SECONDS = 30


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

        ThreadingHTTPServer.request_queue_size = 256  # the stdlib's 5 drops bursts of connects
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"


async def produce(rate: int, seconds: int, committed: dict[str, float]) -> None:
    """Commit ``rate`` events a second, one transaction each, on a fixed timetable."""
    started = time.monotonic()
    for n in range(rate * seconds):
        due = started + n / rate
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        async with in_transaction("default"):
            [event] = await emit(
                [lead_event(EventType.LEAD_ASSIGNED, uuid.uuid4())], datetime.now(UTC)
            )
        committed[str(event.id)] = time.time()


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
    parser.add_argument("--poll-ms", type=int, default=200)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    await open_database(args.database_url)
    arrivals = Arrivals()
    try:
        await endpoints.create(
            OPERATOR, arrivals.url, [], "benchmark receiver", AuthPolicy(), allow_http=True
        )
        dispatcher = Dispatcher(DeliveryOptions(allow=networks("127.0.0.1/32")))
        stop = asyncio.Event()
        loop = asyncio.create_task(dispatcher.run(stop, args.poll_ms / 1000))
        committed: dict[str, float] = {}
        await produce(args.rate, args.seconds, committed)
        deadline = time.monotonic() + DRAIN_SECONDS
        while time.monotonic() < deadline and not committed.keys() <= arrivals.first.keys():  # noqa: ASYNC110 - bounded
            await asyncio.sleep(0.1)
        retried = await WebhookAttempt.exclude(status_code=204).values_list("error", flat=True)
        stop.set()
        await loop
        await dispatcher.close()
        total = len(committed)
        print(
            f"{total} events at {args.rate}/s for {args.seconds} s, delivery loop polling every "
            f"{args.poll_ms} ms, SQLite unless --database-url"
        )
        through = describe(
            "commit → webhook delivered",
            [arrivals.first[k] - v for k, v in committed.items() if k in arrivals.first],
            total,
        )
        baseline = await direct(args.rate, args.seconds, arrivals.url, arrivals)
        plain = describe("baseline: direct post", list(baseline.values()), args.rate * args.seconds)
        print(f"p99 ratio (outbox / direct post): {through / plain:.1f}x")
        print(f"attempts that failed (then retried): {len(retried)} {sorted(set(retried))}")
    finally:
        arrivals.server.shutdown()
        await close_db()


if __name__ == "__main__":
    asyncio.run(main())
