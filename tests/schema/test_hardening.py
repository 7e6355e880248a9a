from __future__ import annotations

from identity.authenticate import AuthStage, RequestAuth
from identity.principal import Principal
from identity.roles import Role
from schema import MAX_ALIASES, MAX_DEPTH, build_schema
from schema.context import Context
from tests.conftest import make_settings


def _context() -> Context:
    auth = RequestAuth(AuthStage.STAFF, "127.0.0.1", Principal(role=Role.MARKETER))
    return Context(request=None, auth=auth, limits=make_settings().query_limits())


async def test_production_schema_refuses_introspection() -> None:
    result = await build_schema(production=True).execute(
        "{ __schema { types { name } } }", context_value=_context()
    )
    assert result.errors
    assert result.data is None


async def test_development_schema_allows_introspection() -> None:
    result = await build_schema(production=False).execute(
        "{ __schema { queryType { name } } }", context_value=_context()
    )
    assert result.errors is None
    assert result.data == {"__schema": {"queryType": {"name": "Query"}}}


async def test_queries_deeper_than_the_limit_are_refused() -> None:
    nested = "__typename"
    for _ in range(MAX_DEPTH + 1):
        nested = f"leads {{ edges {{ node {{ {nested} }} }} }}"
    result = await build_schema(production=False).execute(
        "{ " + nested + " }", context_value=_context()
    )
    assert result.errors
    assert any("depth" in str(error).lower() for error in result.errors)


async def test_too_many_aliases_are_refused() -> None:
    aliases = " ".join(f"a{i}: campaigns {{ id }}" for i in range(MAX_ALIASES + 1))
    result = await build_schema(production=False).execute(
        "{ " + aliases + " }", context_value=_context()
    )
    assert result.errors
    assert "alias" in str(result.errors[0]).lower()
