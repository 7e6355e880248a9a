"""Subscription payloads held until their reads are recorded.

A transport that can keep several payloads of one subscription waiting, in order, gives
its context a :class:`ReadGates`. The access report then starts recording each payload's
``lead.read`` event and lets the subscription go on to its next event at once; the
transport sends each payload only once its own event has committed, and sends it without
data (``AUDIT_UNAVAILABLE``) if the event could not be written. Without gates (server-sent
events, tests that execute directly), the report records each read before the payload
leaves, one at a time.
"""

from __future__ import annotations

import asyncio
from typing import Any


class ReadGates:
    def __init__(self) -> None:
        self._recording: dict[int, asyncio.Future[bool]] = {}

    def hold(self, result: Any, recording: asyncio.Future[bool]) -> None:
        """``result`` may be sent once ``recording`` says True (its read committed)."""
        self._recording[id(result)] = recording

    def take(self, result: Any) -> asyncio.Future[bool] | None:
        """The recording ``result`` waits for (None: nothing to wait for)."""
        return self._recording.pop(id(result), None)
