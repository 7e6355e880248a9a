"""What the processes count and time, for Prometheus (``/metrics``).

Every label value comes from a fixed set the code names (an outcome, a job, a limit) or from
the schema (an operation's root fields, only after the document passed validation), and
the set of operation labels is capped per process (:func:`operation_label`). No label ever
carries a personal value or anything a client typed.

When ``PROMETHEUS_MULTIPROC_DIR`` is set before this module is imported, the values live
in files there and ``/metrics`` adds up every process's (``leadvault serve --workers N``
sets it).
"""

from __future__ import annotations

import re
import threading

from prometheus_client import Counter, Gauge, Histogram

_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUESTS = Counter(
    "leadvault_graphql_requests",
    "GraphQL requests by operation (its type and root fields) and outcome",
    ("operation", "outcome"),
)
REQUEST_SECONDS = Histogram(
    "leadvault_graphql_request_duration_seconds",
    "Time from a GraphQL request's arrival to its response",
    ("operation",),
    buckets=_SECONDS,
)
AUDIT_APPEND_SECONDS = Histogram(
    "leadvault_audit_append_duration_seconds",
    "Time to number, chain and write one batch of audit events",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)
AUDIT_APPEND_FAILURES = Counter(
    "leadvault_audit_append_failures",
    "Audit appends that failed (the request or job that made them failed with them)",
)
JOB_RUNS = Counter(
    "leadvault_job_runs", "Scheduled job runs by job and outcome", ("job", "outcome")
)
JOB_SECONDS = Histogram(
    "leadvault_job_duration_seconds",
    "How long scheduled job runs took",
    ("job",),
    buckets=(0.01, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 1800.0),
)
RATE_LIMITED = Counter(
    "leadvault_rate_limit_refusals",
    "Requests refused by a limit: the request budget, or sign-in and code attempts",
    ("limit",),
)
WEBHOOK_ATTEMPTS = Counter(
    "leadvault_webhook_attempts",
    "Webhook delivery attempts by result (delivered, failed, refused, gone, throttled)",
    ("result",),
)
WEBHOOK_SECONDS = Histogram(
    "leadvault_webhook_delivery_seconds",
    "Time from an event's commit to its first successful delivery",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 30.0, 300.0, 3600.0),
)
WEBHOOK_ENDPOINTS_DISABLED = Counter(
    "leadvault_webhook_endpoints_disabled",
    "Webhook endpoints disabled automatically, by reason (gone: a 410; failing)",
    ("reason",),
)
POOL_CONNECTIONS = Gauge(
    "leadvault_db_pool_connections",
    "Database pool connections by connection name and state (PostgreSQL pools)",
    ("connection", "state"),
    multiprocess_mode="livesum",
)

OUTCOMES = frozenset(
    {"ok", "partial", "error", "invalid", "unauthenticated", "refused", "rate_limited", "failed"}
)
"""Every value the ``outcome`` label of :data:`REQUESTS` takes."""

MAX_OPERATIONS = 100
"""Distinct operation labels one process reports; further ones are counted as ``other``."""

_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,63}$")
_seen: set[str] = set()
_seen_lock = threading.Lock()


def operation_label(kind: str, root_fields: list[str]) -> str:
    """``query:leads``, ``mutation:captureLead``: the operation type and its root fields
    (schema names, checked by validation before they get here), at most
    :data:`MAX_OPERATIONS` of them per process."""
    if kind not in ("query", "mutation", "subscription"):
        return "unknown"
    names = sorted({name for name in root_fields if _NAME.match(name)})
    if not names or len(names) != len(set(root_fields)):
        return f"{kind}:other"
    label = f"{kind}:{'+'.join(names)}"
    if len(label) > 120:
        return f"{kind}:other"
    with _seen_lock:
        if label in _seen:
            return label
        if len(_seen) >= MAX_OPERATIONS:
            return f"{kind}:other"
        _seen.add(label)
    return label
