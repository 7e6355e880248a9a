"""Two API processes on one PostgreSQL database: a change made through one reaches a
subscriber of the other (LISTEN/NOTIFY carries the event ids between them)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from gql import Client

from identity.roles import Role
from server.db import dialect_of
from tests.builders import a_staff_user, a_team, session_token
from tests.conftest import _test_database_url, _test_keystore_url, session_dir
from tests.running_demo import free_port
from tests.subscriptions.conftest import Live
from tests.subscriptions.test_websocket import request, transport

pytestmark = pytest.mark.skipif(
    dialect_of(_test_database_url()) != "postgres", reason="several processes: PostgreSQL"
)
CREATE = """mutation ($input: NewLeadInput!) {
  createLead(input: $input) { __typename ... on LeadPayload { lead { id } } }
}"""


@contextmanager
def serving() -> Iterator[Live]:
    """``leadvault serve`` on the test database, in a process of its own."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LEADVAULT_")}
    environment.update(
        {
            "LEADVAULT_ENV": "dev",
            "LEADVAULT_DATA_DIR": str(session_dir()),
            "LEADVAULT_DATABASE_URL": _test_database_url(),
            # the same database as the tests' (its tables apart), named differently for the
            # settings' check that production keeps them in separate databases
            "LEADVAULT_KEYSTORE_URL": _test_keystore_url()
            + ("&" if "?" in _test_keystore_url() else "?")
            + "minsize=1",
            "LEADVAULT_WORKERS": "1",
        }
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:  # bounded by the deadline
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield Live(port, None)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()


async def test_a_change_through_one_process_reaches_a_subscriber_of_the_other() -> None:
    team = await a_team()
    manager = await a_staff_user(Role.SALES_MANAGER, team)
    token = await session_token(manager)
    created: list[str] = []
    received: Any = None

    with serving() as first, serving() as second:
        async with (
            Client(transport=transport(first, token)) as client,
            httpx.AsyncClient(base_url=second.http, timeout=10) as http,
        ):
            waiting = asyncio.create_task(anext(client.subscribe(request(["LEAD_CREATED"]))))
            for n in range(20):  # until the subscription is in place (each try is a new lead)
                answer = await http.post(
                    "/graphql",
                    json={
                        "query": CREATE,
                        "variables": {"input": {"email": f"p{n}@example.com", "source": "API"}},
                    },
                    headers={"Authorization": f"Bearer {token}"},
                )
                assert answer.json()["data"], answer.text
                created.append(answer.json()["data"]["createLead"]["lead"]["id"])
                done, _ = await asyncio.wait([waiting], timeout=0.5)
                if done:
                    received = waiting.result()
                    break
            else:
                waiting.cancel()

    assert received is not None, "no event crossed between the processes"
    assert received["leadEvents"]["type"] == "LEAD_CREATED"
    assert received["leadEvents"]["lead"]["id"] in created
