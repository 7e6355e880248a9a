"""Serving subscriptions: over WebSocket (``graphql-transport-ws``) and server-sent events
(``graphql-sse``, a POST with ``Accept: text/event-stream``).

A WebSocket connection authenticates in ``connection_init`` (payload
``{"Authorization": "Bearer <session token>"}``): only a staff session that has completed
MFA is accepted; anything else closes the connection (4403). Server-sent events
authenticate like any request, with the same rule. While a connection is open its session
is checked every ``session_check_seconds``: a revoked or expired session closes a
WebSocket connection (4401) and ends an event stream. An acknowledged WebSocket connection
running no operation for ``idle_seconds`` is closed (4408). Subscriptions per session and
events per second are limited in :mod:`schema.subscriptions.operations` and
:mod:`server.events_hub`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from starlette.datastructures import Headers
from starlette.types import Scope
from starlette.websockets import WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.http.streaming import SSETransport
from strawberry.subscriptions import GRAPHQL_SSE_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.types.execution import ExecutionResult, PreExecutionError

from identity import clock
from identity.authenticate import AuthStage, RequestAuth, authenticate
from identity.errors import InvalidCredentials
from identity.policy import AuthPolicy
from schema.access.gates import ReadGates
from schema.access.report import withhold_payload
from schema.context import Context

CLOSE_SESSION_ENDED = 4401
CLOSE_IDLE = 4408


def is_event_stream(scope: Scope) -> bool:
    """A request for server-sent events (a subscription over HTTP)."""
    return scope["type"] == "http" and "text/event-stream" in Headers(scope=scope).get("accept", "")


def recheck(authorization: str | None, address: str, policy: AuthPolicy) -> Any:
    """Whether these credentials still make an MFA-complete staff session."""

    async def valid(now: datetime) -> bool:
        try:
            auth = await authenticate(authorization, address, policy, now)
        except InvalidCredentials:
            return False
        return auth.stage is AuthStage.STAFF

    return valid


async def accept_connection(context: Context, policy: AuthPolicy) -> None:
    """``connection_init``: authenticate the connection, or refuse it."""
    params = context.connection_params or {}
    authorization = params.get("Authorization") or params.get("authorization")
    if not isinstance(authorization, str):
        raise ConnectionRejectionError({"message": "send Authorization in connection_init"})
    address = context.auth.client_address
    try:
        auth = await authenticate(authorization, address, policy, clock.now())
    except InvalidCredentials:
        raise ConnectionRejectionError({"message": "sign in first"}) from None
    if auth.stage is not AuthStage.STAFF or auth.principal is None:
        raise ConnectionRejectionError({"message": "a signed-in staff session with MFA"})
    context.auth = auth
    context.recheck = recheck(authorization, address, policy)


def anonymous(address: str) -> RequestAuth:
    return RequestAuth(AuthStage.ANONYMOUS, address)


class TextFrames(ASGIWebSocketAdapter):
    """Messages as text frames, as graphql-transport-ws requires (the view encodes JSON to
    bytes, for HTTP)."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        encoded = self.view.encode_json(message)
        text = encoded.decode() if isinstance(encoded, bytes) else encoded
        try:
            await self.ws.send_text(text)
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class TextEvents(SSETransport):
    """Server-sent events carry text (the view encodes JSON to bytes, for HTTP)."""

    def encode_next(self, response: Any, encode_json: Any) -> str:
        encoded = encode_json(response)
        return self.encode_event(
            "next", encoded.decode() if isinstance(encoded, bytes) else encoded
        )


STREAM_TRANSPORTS = {GRAPHQL_SSE_PROTOCOL: TextEvents}
"""Subscriptions over HTTP: server-sent events only."""


OUTBOX = 256
"""Payloads of one subscription that may wait for their reads to be recorded."""


class Outbox:
    """One subscription's payloads in order, each sent once its read is recorded (and
    without data if it could not be): the subscription goes on to its next events while
    the reads of earlier ones are written, so many reads commit together."""

    def __init__(self, operation: Any, gates: ReadGates) -> None:
        self.operation = operation
        self.gates = gates
        self.waiting: asyncio.Queue[ExecutionResult | None] = asyncio.Queue(OUTBOX)
        self.sender = asyncio.create_task(self._send(), name="ws-outbox")

    async def put(self, result: ExecutionResult | None) -> None:
        if self.sender.done():
            self.sender.result()  # it stopped (the connection went): so do we
            return
        if not self.waiting.full():
            self.waiting.put_nowait(result)
            return
        putting = asyncio.ensure_future(self.waiting.put(result))
        await asyncio.wait({putting, self.sender}, return_when=asyncio.FIRST_COMPLETED)
        if not putting.done():  # the sender stopped (the connection went): so do we
            putting.cancel()
        if self.sender.done():
            self.sender.result()

    async def finish(self) -> None:
        """Send what is waiting, then return."""
        await self.put(None)
        await self.sender

    def stop(self) -> None:
        """Stop sending (the subscription ended or was stopped); what waits is dropped."""
        self.sender.cancel()
        while not self.waiting.empty():
            result = self.waiting.get_nowait()
            if result is not None:
                self.gates.take(result)

    async def _send(self) -> None:
        while (result := await self.waiting.get()) is not None:
            recording = self.gates.take(result)
            if recording is not None and not await _recorded(recording):
                withhold_payload(result)
            await self.operation.send_next(result)


async def _recorded(recording: asyncio.Future[bool]) -> bool:
    try:
        return await asyncio.shield(recording)
    except asyncio.CancelledError:
        if recording.cancelled():  # the recording itself was cancelled: not recorded
            return False
        raise


class TransportWS(BaseGraphQLTransportWSHandler[Context, None]):
    """Strawberry's ``graphql-transport-ws`` handler, closing connections whose session
    ended or that run nothing for too long, and sending each subscription's payloads
    through an :class:`Outbox`."""

    async def _send_result_stream(self, operation: Any, result_source: Any) -> None:
        if self.context.read_gates is None:
            self.context.read_gates = ReadGates()
        outbox = Outbox(operation, self.context.read_gates)
        first = True
        try:
            async for result in result_source:
                if first and isinstance(result, PreExecutionError):
                    self.context.read_gates.take(result)  # nothing was read
                    await self._handle_pre_execution_error(operation, result)
                    return
                if not isinstance(result, ExecutionResult):
                    await self._reject_incremental_delivery(operation)
                    return
                await outbox.put(result)
                first = False
            await outbox.finish()
        finally:
            outbox.stop()

    def on_request_accepted(self) -> None:
        super().on_request_accepted()
        self._watch = asyncio.create_task(self._watch_connection(), name="ws-watch")

    async def shutdown(self) -> None:
        watch = getattr(self, "_watch", None)
        if watch is not None:
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch
        await super().shutdown()

    async def _watch_connection(self) -> None:
        limits = self.context.subscription_limits
        idle_since = asyncio.get_running_loop().time()
        while True:
            await asyncio.sleep(min(limits.session_check_seconds, limits.idle_seconds))
            now = asyncio.get_running_loop().time()
            if self.operations or not self.connection_acknowledged:
                # Idle time counts from acknowledgement: until then the connection_init
                # deadline governs, and a slow sign-in is not idleness.
                idle_since = now
            if self.connection_acknowledged and not await self.context.session_valid(clock.now()):
                await self.websocket.close(CLOSE_SESSION_ENDED, "session ended")
                return
            if now - idle_since >= limits.idle_seconds:
                await self.websocket.close(CLOSE_IDLE, "idle")
                return
