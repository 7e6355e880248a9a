"""The ASGI application factory."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_SSE_PROTOCOL, GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET

from audit import chain
from compliance.access import grants
from compliance.access.purpose import PURPOSE_HEADER, PurposeRefused
from core import stopping
from core.request_context import bind_client_address
from crypto.keyring import KeyringError
from identity import clock, passwords
from identity.authenticate import RequestAuth, authenticate, client_address
from identity.errors import InvalidCredentials
from schema import build_schema
from schema.context import Context
from server import graphiql
from server.console import console_mount
from server.db import close_db, database_is_ready, init_db, open_vault
from server.downloads import export_download
from server.events_hub import Hub
from server.graphql_http import (
    Refusal,
    admit,
    check_content_type,
    check_headers,
    read_body,
    replay,
)
from server.jobs import scheduler
from server.metrics import endpoint as metrics_endpoint
from server.metrics import forget_process
from server.middleware import RequestIdMiddleware, SecurityHeadersMiddleware
from server.persisted import PersistedOperations
from server.settings import Settings
from server.subscriptions import (
    STREAM_TRANSPORTS,
    TextFrames,
    TransportWS,
    accept_connection,
    anonymous,
    is_event_stream,
    recheck,
)

log = logging.getLogger("leadvault.server")


def _unauthenticated(message: str) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


class GraphQLApp(GraphQL[Context, None]):
    """``/graphql``. The bearer token is resolved before GraphQL runs: a token that is
    present but not valid gets 401 at once; no token means anonymous, which the
    authentication gate lets do nothing but sign in."""

    def __init__(self, settings: Settings) -> None:
        self.subscription_limits = settings.subscription_limits()
        super().__init__(
            build_schema(
                production=not settings.is_dev,
                compiled_reads=settings.compiled_reads,
                shared_payloads=settings.shared_subscription_payloads,
            ),
            graphql_ide="graphiql" if settings.is_dev else None,
            allow_queries_via_get=settings.is_dev,
            multipart_uploads_enabled=False,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_SSE_PROTOCOL),
            connection_init_wait_timeout=timedelta(seconds=10),
            max_subscriptions_per_connection=self.subscription_limits.per_session,
            allowed_origins=settings.cors_origins,
        )
        self.settings = settings
        self.events = Hub(settings.database_url.reveal())
        self._turns = asyncio.Semaphore(settings.max_concurrent_requests)
        """Requests this process works on at once; the rest wait their turn (short event
        loop turns keep a transaction's statements, and the locks it holds, moving)."""
        self.policy = settings.auth_policy()
        self.webhooks_over_http = settings.is_dev
        self.limits = settings.query_limits()
        self.persisted = (
            PersistedOperations.load(
                settings.persisted_operations_file,
                required=settings.require_persisted_operations,
            )
            if settings.persisted_operations_file is not None
            else PersistedOperations.none()
        )

    graphql_transport_ws_handler_class = TransportWS
    websocket_adapter_class = TextFrames
    stream_transport_classes_by_protocol = STREAM_TRANSPORTS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_event_stream(scope):  # long-lived: holds no turn
            await self._serve(scope, receive, send)
            return
        async with self._turns:
            await self._serve(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            try:
                receive = await self._admit(scope, receive)
                scope.setdefault("state", {})["auth"] = await self._authenticate(scope, receive)
            except Refusal as refusal:
                await refusal.response()(scope, receive, send)
                return
            except InvalidCredentials as error:
                await _unauthenticated(str(error))(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    async def _admit(self, scope: Scope, receive: Receive) -> Receive:
        """Refuse what production never takes over HTTP; a body is read (capped), checked,
        and handed on."""
        headers = Headers(scope=scope)
        check_headers(scope["headers"])
        if scope["method"] == "GET":
            if not self.settings.is_dev:
                raise Refusal(
                    405,
                    "METHOD_NOT_ALLOWED",
                    "send GraphQL requests as a JSON POST",
                    {"Allow": "POST"},
                )
            return receive
        check_content_type(headers.get("content-type"))
        body = await read_body(receive, headers.get("content-length"), self.settings.max_body_bytes)
        return replay(admit(body, self.persisted), receive)

    async def _authenticate(self, scope: Scope, receive: Receive) -> RequestAuth:
        request = Request(scope, receive)
        peer = request.client.host if request.client else None
        address = client_address(
            peer, request.headers.get("x-forwarded-for"), self.settings.trusted_proxies
        )
        now = clock.now()
        bind_client_address(address)
        auth = await authenticate(request.headers.get("authorization"), address, self.policy, now)
        if auth.principal is None:
            return auth
        try:
            principal = await grants.for_request(
                auth.principal, request.headers.get(PURPOSE_HEADER), now
            )
        except PurposeRefused as refused:
            raise Refusal(403, "PURPOSE_REFUSED", str(refused)) from None
        return dataclasses.replace(auth, principal=principal)

    async def render_graphql_ide(self, request: Request) -> Response:
        return graphiql.page()

    def encode_json(self, data: object) -> str | bytes:
        """Responses as compact UTF-8 JSON with orjson (several times faster than the standard
        library on a page of leads); anything orjson refuses goes the standard way."""
        try:
            return orjson.dumps(data)
        except TypeError:
            return json.dumps(data, separators=(",", ":"))

    def decode_json(self, data: str | bytes) -> object:
        """The body, already checked by :func:`admit` (UTF-8, no repeated keys, depth)."""
        return orjson.loads(data)

    async def get_context(self, request: Any, response: Any) -> Context:
        if isinstance(request, WebSocket):  # authenticated by connection_init
            peer = request.client.host if request.client else None
            address = client_address(
                peer, request.headers.get("x-forwarded-for"), self.settings.trusted_proxies
            )
            return Context(
                request=None,
                auth=anonymous(address),
                limits=self.limits,
                auth_policy=self.policy,
                events=self.events,
                subscription_limits=self.subscription_limits,
            )
        auth: RequestAuth = request.state.auth
        return Context(
            request=request,
            auth=auth,
            limits=self.limits,
            auth_policy=self.policy,
            response=response,
            webhooks_over_http=self.webhooks_over_http,
            events=self.events,
            subscription_limits=self.subscription_limits,
            recheck=recheck(request.headers.get("authorization"), auth.client_address, self.policy),
        )

    async def on_ws_connect(self, context: Context) -> Any:
        await accept_connection(context, self.policy)
        return UNSET


async def close_within(close: Callable[[], Awaitable[None]], deadline: float) -> None:
    """Close the database connections by ``deadline`` (loop time); a statement still
    running past it is abandoned (its transaction was never committed)."""
    remaining = max(0.0, deadline - asyncio.get_running_loop().time())
    try:
        await asyncio.wait_for(close(), timeout=remaining)
    except TimeoutError:
        log.warning("the database did not close in time; stopping anyway")


def create_app(settings: Settings, *, manage_database: bool = True) -> Starlette:
    """The app. ``manage_database=False`` leaves opening the ORM to the caller (tests,
    benchmarks) that has already done it."""

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if manage_database:
            await init_db(settings)
            try:
                keys = await open_vault(settings)
            except KeyringError as error:
                log.error("refusing to start", extra={"reason": str(error)})
                await close_db()
                raise
            log.info(keys)
        chain.configure(settings.audit_checkpoint_every, settings.audit_checkpoint_minutes)
        stopping.reset()
        await passwords.prepare()
        jobs = scheduler(settings) if manage_database and settings.serve_jobs else None
        scheduling = asyncio.create_task(jobs.run(), name="scheduler") if jobs else None
        log.info(
            "started",
            extra={
                "env": settings.env.value,
                "database": settings.database_label,
                "jobs": "on" if jobs else "off",
            },
        )
        try:
            yield
        finally:
            deadline = asyncio.get_running_loop().time() + settings.shutdown_timeout
            if jobs is not None and scheduling is not None:
                await jobs.stop(settings.shutdown_timeout)
                await asyncio.wait([scheduling], timeout=1)
            if manage_database:
                await close_within(close_db, deadline)
            await graphql_app.events.close()
            forget_process()
            log.info("stopped")

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        if await database_is_ready():
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "unavailable"}, status_code=503)

    graphql_app = GraphQLApp(settings)
    middleware = [
        Middleware(RequestIdMiddleware),
        Middleware(SecurityHeadersMiddleware, production=not settings.is_dev),
    ]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["POST", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type", "X-Request-ID", PURPOSE_HEADER],
                expose_headers=["X-Request-ID", "Retry-After"],
                max_age=600,
            )
        )
    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/graphql", graphql_app, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql_app),
        Route("/dsr/exports/{export_id}", export_download, methods=["GET"]),
        Route("/metrics", metrics_endpoint(settings), methods=["GET"]),
        console_mount(settings, graphql_app.schema, graphql_app.limits),  # type: ignore[arg-type]
    ]
    if settings.is_dev:
        routes.append(Route("/graphiql/{name}", graphiql.asset, methods=["GET"]))
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.events = graphql_app.events
    if settings.tracing:
        from server.tracing import instrument

        instrument(app)
    return app
