"""A document is parsed and validated once per process, then only its variables change; the
limits (depth, aliases, directives) still apply to every document."""

from __future__ import annotations

import uuid

import httpx
from strawberry.extensions.parser_cache import _get_parse_cache
from strawberry.extensions.validation_cache import _get_validate_cache

from schema import MAX_DEPTH, PLAN_CACHE_SIZE
from tests.builders import graphql


async def test_a_repeated_document_is_parsed_and_validated_once(client: httpx.AsyncClient) -> None:
    parse, validate = _get_parse_cache(PLAN_CACHE_SIZE), _get_validate_cache(PLAN_CACHE_SIZE)
    name = f"Plan{uuid.uuid4().hex}"  # a document no earlier test sent
    query = f"query {name}($n: Int!) {{ leads(first: $n) {{ totalCount }} }}"
    parsed, validated = parse.cache_info(), validate.cache_info()

    answers = [await graphql(client, query, {"n": n}) for n in (1, 2, 3)]

    assert all(a["data"]["leads"]["totalCount"] == 0 for a in answers)
    assert parse.cache_info().misses - parsed.misses == 1
    assert parse.cache_info().hits - parsed.hits == 2
    assert validate.cache_info().misses - validated.misses == 1
    assert validate.cache_info().hits - validated.hits == 2


async def test_a_cached_document_over_a_limit_is_refused_every_time(
    client: httpx.AsyncClient,
) -> None:
    query = "id"
    for _ in range(MAX_DEPTH + 1):
        query = f"leads {{ {query} }}"
    query = "{ " + query + " }"

    answers = [await graphql(client, query) for _ in range(3)]

    for body in answers:
        assert body["data"] is None
        assert any("exceeds maximum operation depth" in e["message"] for e in body["errors"])
