"""Pure-ASGI middleware (context variables set here reach the resolvers)."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.request_context import bind_request_id, reset_request_id
from server.metrics import count_request

access_log = logging.getLogger("leadvault.access")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Gives each request an id (a caller's well-formed ``X-Request-ID`` is kept), binds it for
    the duration of the request, returns it in the response, writes one access-log line,
    and counts and times it for ``/metrics`` (:func:`server.metrics.count_request`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        token = bind_request_id(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            access_log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                },
            )
            count_request(scope, status, seconds)
            reset_request_id(token)


_API_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
)
_STRICT_CSP = b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
_HSTS = b"max-age=63072000; includeSubDomains"


class SecurityHeadersMiddleware:
    """Security headers on every response. The API serves JSON only, so the content policy
    allows nothing unless a response sets its own (the development GraphiQL page allows
    its own origin). HSTS is sent in production, where TLS is expected in front."""

    def __init__(self, app: ASGIApp, *, production: bool) -> None:
        self.app = app
        self.production = production

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _API_HEADERS:
                    headers.setdefault(name.decode(), value.decode())
                headers.setdefault("content-security-policy", _STRICT_CSP.decode())
                if self.production:
                    headers.setdefault("strict-transport-security", _HSTS.decode())
            await send(message)

        await self.app(scope, receive, send_with_headers)
