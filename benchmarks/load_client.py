"""The load generator of :mod:`benchmarks.load`: clients on keep-alive HTTP/1.1 connections
over plain asyncio streams (an HTTP library would cost the generator several times the CPU
per request, and on a 2-core machine every cycle it spends is taken from the server), each
sending a mix of lead-list reads, ``lead(id)``, ``captureLead`` and ``recordActivity`` until
the time is up, and recording what came back."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson

LIST = """query LoadList { leads(first: 20) { edges { node {
  id firstName lastName email phone companyName stage score
  owner { displayName }
  activities(first: 5) { edges { node { type occurredAt } } } } } } }"""
GET = "query LoadGet($id: ID!) { lead(id: $id) { id firstName lastName email stage score } }"
CAPTURE = """mutation LoadCapture($input: CaptureLeadInput!) { captureLead(input: $input) {
  __typename ... on CapturePayload { lead { id } created } } }"""
ACTIVITY = """mutation LoadActivity($input: ActivityInput!) { recordActivity(input: $input) {
  __typename ... on ActivityPayload { activity { id } } } }"""

MIX = (("list", 35), ("get", 30), ("capture", 20), ("activity", 15))
READS = ("list", "get")


@dataclass(frozen=True)
class Credentials:
    session: str
    """A sales manager's session: lists and ``lead(id)``."""
    api_key: str
    """An integration key with ``leads:capture`` and ``activities:record``."""
    lead_ids: tuple[str, ...]
    """Leads the manager may read (their team's), also the targets of activities."""


@dataclass
class Tally:
    """What the clients saw."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k, _ in MIX})
    errors: Counter[tuple[str, str]] = field(default_factory=Counter)
    reads: list[str] = field(default_factory=list)
    """Request ids of the reads that succeeded."""
    captured: list[str] = field(default_factory=list)
    activities: list[str] = field(default_factory=list)


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self.writer.write(
            (
                f"POST /graphql HTTP/1.1\r\nHost: {self.host}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{head}\r\n"
            ).encode()
            + body
        )
        status_line = await self.reader.readuntil(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        length, close = 0, False
        while (line := await self.reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.partition(b":")
            lowered = name.strip().lower()
            if lowered == b"content-length":
                length = int(value)
            elif lowered == b"connection" and value.strip().lower() == b"close":
                close = True
        payload = await self.reader.readexactly(length)
        if close:
            self.close()
        return status, payload

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def _request(kind: str, client: int, n: int, run: str, creds: Credentials) -> tuple[bytes, str]:
    """The body of one request and the bearer token it goes with."""
    if kind == "list":
        return orjson.dumps({"query": LIST}), creds.session
    if kind == "get":
        lead = random.choice(creds.lead_ids)
        return orjson.dumps({"query": GET, "variables": {"id": lead}}), creds.session
    if kind == "capture":
        lead_input = {
            "email": f"load-{run}-{client}-{n}@example.com",
            "firstName": "Load",
            "lastName": f"Client{client}",
            "companyName": "Load Testing Ltd",
        }
        variables = {"input": {"lead": lead_input, "formId": "load-form"}}
        return orjson.dumps({"query": CAPTURE, "variables": variables}), creds.api_key
    activity = {"leadId": random.choice(creds.lead_ids), "type": "PAGE_VIEW"}
    return orjson.dumps({"query": ACTIVITY, "variables": {"input": activity}}), creds.api_key


def _acknowledged(kind: str, data: dict[str, Any]) -> str | None:
    """What a successful response must show: the id written, or (reads) anything."""
    if kind == "list":
        return "read" if data["leads"]["edges"] is not None else None
    if kind == "get":
        return "read" if data["lead"] is not None else None
    if kind == "capture":
        result = data["captureLead"]
        return result["lead"]["id"] if result["__typename"] == "CapturePayload" else None
    result = data["recordActivity"]
    return result["activity"]["id"] if result["__typename"] == "ActivityPayload" else None


async def _client(
    client: int, host: str, port: int, creds: Credentials, run: str, until: float, tally: Tally
) -> None:
    connection = Connection(host, port)
    kinds = [kind for kind, weight in MIX for _ in range(weight)]
    try:
        for n in itertools.count():
            if time.monotonic() >= until:
                return
            kind = random.choice(kinds)
            body, token = _request(kind, client, n, run, creds)
            request_id = f"load-{run}-{client}-{n}"
            headers = {"Authorization": f"Bearer {token}", "X-Request-ID": request_id}
            started = time.perf_counter()
            try:
                status, payload = await connection.post(body, headers)
            except (OSError, asyncio.IncompleteReadError, ValueError) as error:
                connection.close()
                tally.errors[(kind, type(error).__name__)] += 1
                continue
            tally.latencies[kind].append(time.perf_counter() - started)
            _record(kind, status, payload, request_id, tally)
    finally:
        connection.close()


def _record(kind: str, status: int, payload: bytes, request_id: str, tally: Tally) -> None:
    if status != 200:
        tally.errors[(kind, f"HTTP {status}")] += 1
        return
    body = orjson.loads(payload)
    if body.get("errors"):
        code = (body["errors"][0].get("extensions") or {}).get("code", "error")
        tally.errors[(kind, str(code))] += 1
        return
    written = _acknowledged(kind, body["data"])
    if written is None:
        tally.errors[(kind, "not acknowledged")] += 1
    elif kind in READS:
        tally.reads.append(request_id)
    elif kind == "capture":
        tally.captured.append(written)
    else:
        tally.activities.append(written)


async def drive(
    host: str, port: int, creds: Credentials, clients: int, seconds: float, run: str
) -> tuple[Tally, float]:
    """``clients`` clients for ``seconds``; what they saw and the wall time taken."""
    tally = Tally()
    started = time.monotonic()
    until = started + seconds
    await asyncio.gather(
        *(_client(n, host, port, creds, run, until, tally) for n in range(clients))
    )
    return tally, time.monotonic() - started
