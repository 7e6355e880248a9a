"""Optional OpenTelemetry tracing (``LEADVAULT_TRACING=true``), with the maintained
instrumentations for Starlette (a span per request) and asyncpg (a span per statement).

Spans go to an OTLP/HTTP collector configured by the standard ``OTEL_EXPORTER_OTLP_*``
variables and named by ``OTEL_SERVICE_NAME`` (default ``leadvault``). They never carry a
personal value: statements are recorded as SQL text with placeholders, never their
parameters, and a request's query string (an export link's signature) is cut from the URL
attributes. Needs the ``tracing`` extra: ``pip install 'leadvault[tracing]'``.
"""

from __future__ import annotations

import os
from typing import Any

from starlette.applications import Starlette

from server.settings import PREFIX, SettingsError

_URL_ATTRIBUTES = ("http.url", "http.target", "url.full", "url.query")


def _without_query(span: Any, scope: dict[str, Any]) -> None:
    if span is None or not span.is_recording():
        return
    path = scope.get("path", "")
    for name in _URL_ATTRIBUTES:
        span.set_attribute(name, "" if name == "url.query" else path)


_provider: Any = None


def instrument(app: Starlette, exporter: Any = None) -> None:
    """Trace ``app``'s requests and every asyncpg statement of this process. ``exporter``:
    where spans go (default: OTLP over HTTP)."""
    global _provider
    try:
        from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
        from opentelemetry.instrumentation.starlette import StarletteInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError:
        raise SettingsError(
            f"{PREFIX}TRACING: needs the tracing extra (pip install 'leadvault[tracing]')"
        ) from None
    if _provider is None:
        _provider = TracerProvider(
            resource=Resource.create(
                {"service.name": os.environ.get("OTEL_SERVICE_NAME", "leadvault")}
            )
        )
        if exporter is None:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            _provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        AsyncPGInstrumentor(capture_parameters=False).instrument(tracer_provider=_provider)
    if exporter is not None:
        _provider.add_span_processor(SimpleSpanProcessor(exporter))
    StarletteInstrumentor.instrument_app(
        app, server_request_hook=_without_query, tracer_provider=_provider
    )
