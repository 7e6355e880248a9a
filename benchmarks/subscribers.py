"""The subscriber side of :mod:`benchmarks.events`, in a process of its own so its work
does not slow the server: N WebSocket subscriptions (graphql-transport-ws), each noting
when every event first reached it; prints ``{"ready": true}`` once all are subscribed and,
when its standard input closes, one JSON object of arrival times per subscriber.

    .venv/bin/python -m benchmarks.subscribers URL TOKEN [TOKEN…]
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import websockets
from websockets.typing import Subprotocol

QUERY = "subscription { leadEvents { resync eventId type sequence lead { id stage } } }"


async def subscriber(
    url: str, token: str, arrivals: dict[str, float], ready: asyncio.Event
) -> None:
    protocol = Subprotocol("graphql-transport-ws")
    async with websockets.connect(url, subprotocols=[protocol]) as socket:
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        await socket.send(json.dumps(init))
        assert json.loads(await socket.recv())["type"] == "connection_ack"
        await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": QUERY}}))
        ready.set()
        async for raw in socket:
            message = json.loads(raw)
            if message.get("type") != "next":
                print(json.dumps(message)[:300], file=sys.stderr)
                continue
            if not message["payload"].get("data"):
                print(json.dumps(message)[:300], file=sys.stderr)
                continue
            event = message["payload"]["data"]["leadEvents"]
            if event["resync"]:
                arrivals.setdefault("resync", time.time())
            elif event["eventId"] is not None:
                arrivals.setdefault(event["eventId"], time.time())


async def main() -> None:
    url, tokens = sys.argv[1], sys.argv[2:]
    arrivals: list[dict[str, float]] = [{} for _ in tokens]
    readies = [asyncio.Event() for _ in tokens]
    tasks = [
        asyncio.create_task(subscriber(url, token, found, ready))
        for token, found, ready in zip(tokens, arrivals, readies, strict=True)
    ]
    await asyncio.gather(*(ready.wait() for ready in readies))
    print(json.dumps({"ready": True}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    for task in tasks:
        task.cancel()
    print(json.dumps(arrivals), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
