"""``/metrics`` for Prometheus, and the middleware that counts and times GraphQL requests.

The endpoint answers only with ``Authorization: Bearer <LEADVAULT_METRICS_TOKEN>``; without
a token configured it is open in development and absent (404) in production. Besides what
the processes count (:mod:`core.metrics`, added up over every worker process when
``PROMETHEUS_MULTIPROC_DIR`` is set), each scrape reads from the database what any process
on any machine did: the outbox backlog and each scheduled job's last run.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Awaitable, Callable, Iterable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client import multiprocess as prometheus_multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Scope
from tortoise import connections
from tortoise.exceptions import ConfigurationError

from core import metrics
from server.settings import Settings

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"


def _outcome_of_status(status: int) -> str:
    if status == 401:
        return "unauthenticated"
    if status == 429:
        return "rate_limited"
    if status >= 500:
        return "failed"
    return "refused"


def count_request(scope: Scope, status: int, seconds: float) -> None:
    """Count and time a ``/graphql`` request by operation and outcome (the operation report,
    :mod:`schema.observe`, names both; a request refused before GraphQL ran is ``http``,
    with an outcome from its status)."""
    if scope["path"] != "/graphql":
        return
    state = scope.get("state", {})
    operation = state.get("operation", "http")
    outcome = state.get("outcome")
    if outcome is None or status >= 500:
        outcome = "ok" if status < 400 else _outcome_of_status(status)
    metrics.REQUESTS.labels(operation, outcome).inc()
    metrics.REQUEST_SECONDS.labels(operation).observe(seconds)
    now = time.monotonic()
    if now - _pools.observed_at >= POOL_EVERY_SECONDS:
        _pools.observed_at = now
        observe_pools()


POOL_EVERY_SECONDS = 1.0
"""How often a busy process refreshes its pool gauges (and on every scrape it answers)."""


class _PoolClock:
    observed_at = float("-inf")


_pools = _PoolClock()


def observe_pools() -> None:
    """This process's PostgreSQL pools: connections in use and idle, per connection."""
    try:
        configured = connections.db_config
    except ConfigurationError:  # the ORM is not open in this process
        return
    for name in ("default", "replica", "keystore"):
        if name not in configured:
            continue
        pool = getattr(connections.get(name), "_pool", None)
        if pool is None or not hasattr(pool, "get_idle_size"):
            continue
        size, idle = pool.get_size(), pool.get_idle_size()
        metrics.POOL_CONNECTIONS.labels(name, "in_use").set(size - idle)
        metrics.POOL_CONNECTIONS.labels(name, "idle").set(idle)
        metrics.POOL_CONNECTIONS.labels(name, "max").set(pool.get_max_size())


class _Snapshot(Collector):
    """Gauges read from the database for one scrape."""

    def __init__(self, families: list[GaugeMetricFamily]) -> None:
        self.families = families

    def collect(self) -> Iterable[GaugeMetricFamily]:
        return self.families


async def database_families(settings: Settings) -> list[GaugeMetricFamily]:
    from compliance.models import OutboxMessage
    from compliance.outbox import MAX_ATTEMPTS
    from compliance.runner import RUNNING, last_run
    from server.jobs import catalogue

    backlog = GaugeMetricFamily(
        "leadvault_outbox_backlog", "Outbox messages waiting for delivery (all processes)"
    )
    backlog.add_metric(
        [],
        await OutboxMessage.filter(sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS).count(),
    )
    finished = GaugeMetricFamily(
        "leadvault_job_last_finished_timestamp_seconds",
        "When each job's last finished run ended, by its outcome",
        labels=("job", "outcome"),
    )
    running = GaugeMetricFamily(
        "leadvault_job_running", "Whether a run of the job is in progress", labels=("job",)
    )
    for job in catalogue(settings):
        last = await last_run(job.name)
        running.add_metric([job.name], 1 if last is not None and last.outcome == RUNNING else 0)
        if last is not None and last.finished_at is not None:
            finished.add_metric([job.name, last.outcome], last.finished_at.timestamp())
    return [backlog, finished, running]


def _process_output() -> bytes:
    directory = os.environ.get(MULTIPROCESS_DIR)
    if not directory:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    prometheus_multiprocess.MultiProcessCollector(registry, path=directory)
    return generate_latest(registry)


def endpoint(settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    token = settings.metrics_token.reveal()

    async def serve_metrics(request: Request) -> Response:
        if not token and not settings.is_dev:
            return PlainTextResponse("Not Found", status_code=404)
        if token:
            given = request.headers.get("authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                return PlainTextResponse(
                    "metrics need the bearer token",
                    status_code=401,
                    headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
                )
        observe_pools()
        snapshot = CollectorRegistry()
        snapshot.register(_Snapshot(await database_families(settings)))
        body = _process_output() + generate_latest(snapshot)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return serve_metrics


def forget_process() -> None:
    """On a worker process's way out: drop its live gauges from the shared files."""
    if os.environ.get(MULTIPROCESS_DIR):
        prometheus_multiprocess.mark_process_dead(os.getpid())
