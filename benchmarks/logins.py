"""Sign-in benchmark: logins per second at the chosen Argon2id parameters, and whether a
burst of logins stalls other requests.

1. Raw Argon2id verifications per second on this machine (the hashing pool, no HTTP).
2. ``login`` mutations per second through the full ASGI stack, 20 in flight.
3. p50/p99 latency of a cheap authenticated query (``me``) issued back to back: alone
   (the baseline, measured in the same run) and while 20 logins run concurrently. Hashing
   runs on a bounded, lower-priority thread pool off the event loop; for comparison the run
   repeats with hashing forced onto the loop, where each ``me`` waits behind whole hashes.

    python -m benchmarks.logins [--seconds 5] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from datetime import UTC, datetime
from typing import Any

import httpx

from benchmarks.setup import active_session, open_database
from identity import passwords
from identity.models import StaffUser
from identity.roles import Role
from server.app import create_app
from server.db import close_db

PASSWORD = "correct horse battery staple"  # noqa: S105 (the benchmark accounts)
CONCURRENT_LOGINS = 20
LOGIN = """mutation ($e: String!, $p: String!) { login(email: $e, password: $p) { __typename } }"""
ME = "{ me { account { id } } }"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))] * 1000


async def raw_verifications(seconds: float) -> float:
    stored = await passwords.hash_password(PASSWORD)
    done = 0
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await passwords.verify_password(stored, PASSWORD)
            done += 1

    await asyncio.gather(*(worker() for _ in range(CONCURRENT_LOGINS)))
    return done / (time.perf_counter() - started)


async def cheap_queries(client: httpx.AsyncClient, token: str, seconds: float) -> list[float]:
    latencies = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        response = await client.post(
            "/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {token}"}
        )
        latencies.append(time.perf_counter() - started)
        if response.status_code != 200 or "errors" in response.json():
            raise SystemExit(f"me failed: {response.text}")
    return latencies


async def login_storm(client: httpx.AsyncClient, emails: list[str], stop: asyncio.Event) -> int:
    done = 0

    async def worker(email: str) -> None:
        nonlocal done
        while not stop.is_set():
            response = await client.post(
                "/graphql", json={"query": LOGIN, "variables": {"e": email, "p": PASSWORD}}
            )
            if response.json()["data"]["login"]["__typename"] != "MfaChallenge":
                raise SystemExit(f"login failed: {response.text}")
            done += 1

    await asyncio.gather(*(worker(email) for email in emails))
    return done


class InlineExecutor(Executor):
    """Runs the hash on the calling thread: what hashing on the event loop would cost."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


async def under_logins(
    client: httpx.AsyncClient, token: str, emails: list[str], seconds: float
) -> tuple[list[float], float]:
    """``me`` latencies while 20 logins run, and the logins per second achieved."""
    stop = asyncio.Event()
    storm = asyncio.create_task(login_storm(client, emails, stop))
    started = time.perf_counter()
    await asyncio.sleep(0.5)
    latencies = await cheap_queries(client, token, seconds)
    stop.set()
    logins = await storm
    return latencies, logins / (time.perf_counter() - started)


async def run(seconds: float, database_url: str | None) -> None:
    settings = await open_database(database_url)
    try:
        stored = await passwords.hash_password(PASSWORD)
        emails = [f"bench{i}@staff.example" for i in range(CONCURRENT_LOGINS)]
        await StaffUser.bulk_create(
            [
                StaffUser(
                    email=email,
                    display_name=f"Bench {i}",
                    role=Role.SALES_REP,
                    password_hash=stored,
                    mfa_enrolled_at=datetime.now(UTC),
                )
                for i, email in enumerate(emails)
            ]
        )
        token = await active_session(Role.ANALYST)
        params = passwords.PARAMETERS
        print(
            f"Argon2id t={params.time_cost} m={params.memory_cost // 1024} MiB "
            f"p={params.parallelism}; hashing pool of {passwords.POOL_SIZE} threads"
        )
        verifications = await raw_verifications(seconds)
        print(f"raw verifications: {verifications:.1f}/s")
        app = create_app(settings, manage_database=False)
        transport = httpx.ASGITransport(app=app, client=("192.0.2.10", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            await cheap_queries(client, token, 1.0)  # warm up
            alone = await cheap_queries(client, token, seconds)
            loaded, rate = await under_logins(client, token, emails, seconds)
            real_pool = passwords._pool
            passwords._pool = InlineExecutor()  # type: ignore[assignment]
            try:
                on_loop, _ = await under_logins(client, token, emails, seconds)
            finally:
                passwords._pool = real_pool
        print(f"login mutations: {rate:.1f}/s with {CONCURRENT_LOGINS} in flight")
        print(f"\n`me` back to back            {'requests':>9}{'p50 ms':>9}{'p99 ms':>9}")
        rows = (
            ("alone (baseline)", alone),
            ("20 logins running", loaded),
            ("same, hashing on the loop", on_loop),
        )
        for label, values in rows:
            print(
                f"  {label:<27}{len(values):>9}"
                f"{percentile(values, 0.5):>9.1f}{percentile(values, 0.99):>9.1f}"
            )
        ratio = percentile(loaded, 0.99) / percentile(alone, 0.99)
        counterfactual = percentile(on_loop, 0.99) / percentile(alone, 0.99)
        print(f"p99 under login load / p99 alone = {ratio:.2f}")
        print(f"(had hashing run on the event loop: {counterfactual:.2f})")
    finally:
        await close_db()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    asyncio.run(run(args.seconds, args.database_url))


if __name__ == "__main__":
    main()
