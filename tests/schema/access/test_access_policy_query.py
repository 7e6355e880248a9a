from __future__ import annotations

import httpx
import pytest

from identity.roles import Role
from tests.builders import a_staff_user, graphql, session_token

QUERY = """{ accessPolicy {
  scopes { actor read write }
  fields { typeName field rules { actor access mask consent otherwise purpose } }
  operations { operation roles }
  breakGlassMaxMinutes
} }"""


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ADMIN])
async def test_auditors_and_admins_read_the_policy(
    anonymous_client: httpx.AsyncClient, role: Role
) -> None:
    body = await graphql(
        anonymous_client, QUERY, token=await session_token(await a_staff_user(role))
    )

    policy = body["data"]["accessPolicy"]
    email = next(f for f in policy["fields"] if (f["typeName"], f["field"]) == ("Lead", "email"))
    marketer = next(r for r in email["rules"] if r["actor"] == "marketer")
    assert marketer == {
        "actor": "marketer",
        "access": "reveal",
        "mask": "email",
        "consent": "email_marketing",
        "otherwise": "mask",
        "purpose": None,
    }
    assert {"actor": "sales_rep", "read": "own", "write": "own"} in policy["scopes"]
    assert policy["breakGlassMaxMinutes"] == 60


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.MARKETER, Role.ANALYST])
async def test_other_roles_may_not(anonymous_client: httpx.AsyncClient, role: Role) -> None:
    body = await graphql(
        anonymous_client, QUERY, token=await session_token(await a_staff_user(role))
    )

    assert body["data"] == {"accessPolicy": None}
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["errors"][0]["path"] == ["accessPolicy"]


async def test_anonymous_callers_may_not(anonymous_client: httpx.AsyncClient) -> None:
    body = await graphql(anonymous_client, QUERY)

    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
