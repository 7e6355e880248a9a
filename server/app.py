"""The ASGI application factory."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL

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
from server.db import close_db, database_is_ready, init_db, open_vault
from server.downloads import export_download
from server.graphql_http import (
    Refusal,
    admit,
    check_content_type,
    check_headers,
    read_body,
    replay,
)
from server.middleware import RequestIdMiddleware, SecurityHeadersMiddleware
from server.persisted import PersistedOperations
from server.settings import Settings

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
        super().__init__(
            build_schema(production=not settings.is_dev, compiled_reads=settings.compiled_reads),
            graphql_ide="graphiql" if settings.is_dev else None,
            allow_queries_via_get=settings.is_dev,
            multipart_uploads_enabled=False,
        )
        self.settings = settings
        self.policy = settings.auth_policy()
        self.limits = settings.query_limits()
        self.persisted = (
            PersistedOperations.load(
                settings.persisted_operations_file,
                required=settings.require_persisted_operations,
            )
            if settings.persisted_operations_file is not None
            else PersistedOperations.none()
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
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
        return Context(
            request=request,
            auth=request.state.auth,
            limits=self.limits,
            auth_policy=self.policy,
            response=response,
        )


_BUSY: set[asyncio.Task[Any]] = set()
"""Background jobs in the middle of a run (the rest are waiting for their next turn)."""


async def stop_background(tasks: Sequence[asyncio.Task[Any]], within: float) -> None:
    """Stop the background jobs within ``within`` seconds: a job waiting for its turn is
    cancelled at once; a job in the middle of a run is asked to stop and ends at its next
    batch boundary (every committed batch recorded, no transaction cut off mid-commit); one
    still running at the deadline is cancelled, and one that will not stop even then is left
    to the process's exit (logged by name)."""
    stopping.request()
    for task in tasks:
        if task not in _BUSY:
            task.cancel()
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=within)
    for task in pending:
        task.cancel()
    if pending:
        _, pending = await asyncio.wait(pending, timeout=1)
    for task in pending:
        log.warning("a background job did not stop in time", extra={"job": task.get_name()})


async def close_within(close: Callable[[], Awaitable[None]], deadline: float) -> None:
    """Close the database connections by ``deadline`` (loop time); a statement still
    running past it is abandoned (its transaction was never committed)."""
    remaining = max(0.0, deadline - asyncio.get_running_loop().time())
    try:
        await asyncio.wait_for(close(), timeout=remaining)
    except TimeoutError:
        log.warning("the database did not close in time; stopping anyway")


async def _sign_checkpoints(minutes: int) -> None:
    """Sign the audit chain's head every ``minutes`` even when no event arrives, so a quiet
    tail is not left unsigned (appends also sign on their own schedule). Several processes
    may run this: a head that is already signed is left alone."""
    while True:
        await asyncio.sleep(minutes * 60)
        try:
            await chain.checkpoint_now(clock.now(), "interval")
        except Exception:
            log.exception("could not sign an audit checkpoint; will try again")


async def _every(seconds: float, what: str, job: Callable[[], Awaitable[object]]) -> None:
    """Run ``job`` every ``seconds``; a failure is logged (by type, never message) and
    retried at the next turn."""
    current = asyncio.current_task()
    if current is not None:
        current.set_name(what)
    while True:
        await asyncio.sleep(seconds)
        if current is not None:
            _BUSY.add(current)
        try:
            await job()
        except stopping.StopRequested:
            return
        except Exception as error:
            log.warning("%s failed; will try again", what, extra={"error": type(error).__name__})
        finally:
            _BUSY.discard(current)


def _background_jobs(settings: Settings) -> list[asyncio.Task[None]]:
    """Jobs ``serve`` runs on its own: delivering the outbox (where a sender is configured),
    the consent job, cold detection (on the consent job's schedule), the scoring job
    (pending rescoring runs, decay when due), approved erasures (every minute) and the
    retention job (LEADVAULT_RETENTION_JOB_HOURS). All are safe with several processes."""
    from datetime import timedelta

    from audit.events import Actor
    from compliance.outbox import FileSender, deliver
    from leads.cold import mark_cold
    from leads.consent_jobs import run_consent_job
    from leads.scoring.runs import scoring_job
    from rights import retention
    from rights.erasure import run_approved
    from rights.retention_policy import retention_policy

    tasks = [
        asyncio.create_task(
            _every(
                settings.consent_job_minutes * 60,
                "consent job",
                lambda: run_consent_job(Actor.operator(), clock.now()),
            )
        ),
        asyncio.create_task(
            _every(
                settings.scoring_job_seconds,
                "scoring job",
                lambda: scoring_job(timedelta(hours=settings.score_decay_hours)),
            )
        ),
        asyncio.create_task(
            _every(
                settings.consent_job_minutes * 60,
                "cold detection",
                lambda: mark_cold(
                    Actor.operator(), clock.now(), timedelta(days=settings.cold_after_days)
                ),
            )
        ),
        asyncio.create_task(
            _every(60, "erasure job", lambda: run_approved(Actor.operator(), clock.now))
        ),
        asyncio.create_task(
            _every(
                settings.retention_job_hours * 3600,
                "retention job",
                lambda: retention.scheduled(retention_policy(), clock.now(), Actor.operator()),
            )
        ),
    ]
    if settings.outbox_dir is not None:
        sender = FileSender(settings.outbox_dir)
        tasks.append(
            asyncio.create_task(
                _every(settings.outbox_interval_seconds, "outbox delivery", lambda: deliver(sender))
            )
        )
    return tasks


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
        background = (
            [
                asyncio.create_task(_sign_checkpoints(settings.audit_checkpoint_minutes)),
                *_background_jobs(settings),
            ]
            if manage_database
            else []
        )
        log.info("started", extra={"env": settings.env.value, "database": settings.database_label})
        try:
            yield
        finally:
            deadline = asyncio.get_running_loop().time() + settings.shutdown_timeout
            await stop_background(background, settings.shutdown_timeout)
            if manage_database:
                await close_within(close_db, deadline)
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
        Route("/dsr/exports/{export_id}", export_download, methods=["GET"]),
    ]
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
