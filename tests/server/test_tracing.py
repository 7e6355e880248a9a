"""Optional tracing: requests and statements become spans, and no span carries a query
string (an export link's signature) or a personal value."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from server import tracing
from server.app import create_app
from server.db import dialect_of
from server.settings import Environment
from tests.builders import graphql
from tests.conftest import _test_database_url, make_settings

EMAIL = "grace.hopper@navy.example"
SIGNATURE = "f00dfacecafebeef0123456789"


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor

    spans = InMemorySpanExporter()
    yield spans
    AsyncPGInstrumentor().uninstrument()
    tracing._provider = None


async def test_traced_requests_keep_no_query_string_and_no_personal_value(
    exporter: InMemorySpanExporter,
) -> None:
    app = create_app(make_settings(Environment.PROD), manage_database=False)
    tracing.instrument(app, exporter)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        await graphql(
            http,
            "mutation ($e: String!) { login(email: $e, password: $e) { __typename } }",
            {"e": EMAIL},
        )
        await http.get(f"/dsr/exports/{uuid.uuid4()}?expires=1&signature={SIGNATURE}")

    spans = exporter.get_finished_spans()
    names = {span.name for span in spans}
    assert any("/graphql" in name for name in names), names
    assert any("/dsr/exports" in name for name in names), names
    if dialect_of(_test_database_url()) == "postgres":
        statements = [s for s in spans if "db.statement" in (s.attributes or {})]
        assert statements  # the sign-in's queries, as SQL text
    recorded = " ".join(f"{span.name} {dict(span.attributes or {})}" for span in spans)
    assert SIGNATURE not in recorded
    assert EMAIL not in recorded
    assert "expires=" not in recorded


def test_tracing_without_the_extra_installed_stops_start_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import builtins

    real_import = builtins.__import__

    def missing(name: str, *args: object, **kwargs: object) -> object:
        if name.startswith("opentelemetry"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", missing)
    with pytest.raises(tracing.SettingsError, match="LEADVAULT_TRACING: needs the tracing extra"):
        create_app(make_settings(Environment.PROD, tracing=True), manage_database=False)
