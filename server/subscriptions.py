"""Serving subscriptions: over WebSocket (``graphql-transport-ws``) and server-sent events
(``graphql-sse``, a POST with ``Accept: text/event-stream``).

A WebSocket connection authenticates in ``connection_init`` (payload
``{"Authorization": "Bearer <session token>"}``): only a staff session that has completed
MFA is accepted; anything else closes the connection (4403). Server-sent events
authenticate like any request, with the same rule. While a connection is open its session
is checked every ``session_check_seconds``: a revoked or expired session closes a
WebSocket connection (4401) and ends an event stream. A WebSocket connection running no
operation for ``idle_seconds`` is closed (4408). Subscriptions per session and events per
second are limited in :mod:`schema.subscriptions.operations` and :mod:`server.events_hub`.
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

from identity import clock
from identity.authenticate import AuthStage, RequestAuth, authenticate
from identity.errors import InvalidCredentials
from identity.policy import AuthPolicy
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


class TransportWS(BaseGraphQLTransportWSHandler[Context, None]):
    """Strawberry's ``graphql-transport-ws`` handler, closing connections whose session
    ended or that run nothing for too long."""

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
            if self.operations:
                idle_since = now
            if self.connection_acknowledged and not await self.context.session_valid(clock.now()):
                await self.websocket.close(CLOSE_SESSION_ENDED, "session ended")
                return
            if now - idle_since >= limits.idle_seconds:
                await self.websocket.close(CLOSE_IDLE, "idle")
                return
