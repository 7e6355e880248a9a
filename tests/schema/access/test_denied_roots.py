"""A signed-in caller's query that names a root field they may not use still answers the
rest: the denied field is null with ``FORBIDDEN`` at its path and its resolver never runs.
Mutations, and anything before sign-in, are still refused whole."""

from __future__ import annotations

import httpx

from audit.models import AuditEvent
from identity.roles import Role
from tests.builders import a_lead, a_staff_user, graphql, session_token


async def _marketer(client: httpx.AsyncClient, query: str) -> dict:  # type: ignore[type-arg]
    return await graphql(
        client, query, token=await session_token(await a_staff_user(Role.MARKETER))
    )


async def test_the_allowed_root_fields_answer_and_the_denied_one_is_null(
    anonymous_client: httpx.AsyncClient,
) -> None:
    await a_lead()

    body = await _marketer(
        anonymous_client,
        "{ me { account { role } } leads(first: 1) { totalCount } tasks { __typename } }",
    )

    assert list(body["data"]) == ["me", "leads", "tasks"]
    assert body["data"]["me"] == {"account": {"role": "MARKETER"}}
    assert body["data"]["leads"]["totalCount"] == 1
    assert body["data"]["tasks"] is None
    [error] = body["errors"]
    assert error["path"] == ["tasks"]
    assert error["extensions"] == {"code": "FORBIDDEN"}
    assert error["message"] == "your role may not use: tasks"
    assert error["locations"] == [{"line": 1, "column": 58}]
    denied = await AuditEvent.filter(action="access.operation.denied").order_by("-id").first()
    assert denied is not None
    assert denied.fields_denied == ["tasks"]


async def test_aliases_and_root_fragments_are_denied_at_their_own_paths(
    anonymous_client: httpx.AsyncClient,
) -> None:
    body = await _marketer(
        anonymous_client,
        """query Mixed { first: tasks { __typename } ...More
                         ... on Query { me { account { role } } } }
           fragment More on Query { campaigns { id } second: tasks { __typename } }""",
    )

    assert "errors" not in body or body["data"] is not None, body["errors"]
    assert list(body["data"]) == ["first", "campaigns", "second", "me"]
    assert body["data"]["first"] is None
    assert body["data"]["second"] is None
    assert body["data"]["campaigns"] == []
    assert body["data"]["me"] == {"account": {"role": "MARKETER"}}
    assert [e["path"] for e in body["errors"]] == [["first"], ["second"]]


async def test_when_every_root_field_is_denied_each_is_null(
    anonymous_client: httpx.AsyncClient,
) -> None:
    body = await _marketer(
        anonymous_client, "{ tasks { __typename } accessPolicy { breakGlassMaxMinutes } }"
    )

    assert body["data"] == {"tasks": None, "accessPolicy": None}
    assert sorted(e["path"][0] for e in body["errors"]) == ["accessPolicy", "tasks"]
    assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}


async def test_a_skipped_allowed_field_stays_out_of_the_answer(
    anonymous_client: httpx.AsyncClient,
) -> None:
    body = await _marketer(
        anonymous_client,
        "{ me @skip(if: true) { account { role } } campaigns { id } tasks { __typename } }",
    )

    assert body["data"] == {"campaigns": [], "tasks": None}, body.get("errors")


async def test_a_mutation_with_a_denied_field_is_refused_whole(
    anonymous_client: httpx.AsyncClient,
) -> None:
    lead = await a_lead()

    body = await _marketer(
        anonymous_client,
        f'mutation {{ logout changeStage(leadId: "{lead.id}", to: MQL) {{ __typename }} }}',
    )

    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_an_unauthenticated_query_is_refused_whole(
    anonymous_client: httpx.AsyncClient,
) -> None:
    body = await graphql(anonymous_client, "{ purposes { name } leads { totalCount } }")

    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
