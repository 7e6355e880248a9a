"""Changing your own password: the current one is required; other sessions end."""

from __future__ import annotations

import httpx

from tests.builders import graphql
from tests.identity.conftest import PASSWORD, Clock, an_enrolled_user
from tests.identity.test_sign_in import ME, login, sign_in

CHANGE = """mutation ($current: String!, $new: String!) {
  changePassword(currentPassword: $current, newPassword: $new) {
    __typename
    ... on WrongPassword { message }
    ... on ValidationErrors { errors { field code } }
  }
}"""
NEW = "a completely different passphrase"


async def test_changing_the_password_ends_my_other_sessions(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    account = await an_enrolled_user()
    other = await sign_in(anonymous_client, account, frozen)
    frozen.advance(seconds=30)
    current = await sign_in(anonymous_client, account, frozen)

    body = await graphql(anonymous_client, CHANGE, {"current": PASSWORD, "new": NEW}, token=current)

    assert body["data"]["changePassword"]["__typename"] == "PasswordChanged"
    still = await anonymous_client.post(
        "/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {current}"}
    )
    ended = await anonymous_client.post(
        "/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {other}"}
    )
    assert (still.status_code, ended.status_code) == (200, 401)
    assert (await login(anonymous_client, account.user.email, PASSWORD))["__typename"] == (
        "SignInFailed"
    )
    assert (await login(anonymous_client, account.user.email, NEW))["__typename"] == "MfaChallenge"


async def test_a_wrong_current_password_changes_nothing(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    account = await an_enrolled_user()
    token = await sign_in(anonymous_client, account, frozen)

    body = await graphql(
        anonymous_client, CHANGE, {"current": "not my password at all", "new": NEW}, token=token
    )

    assert body["data"]["changePassword"]["__typename"] == "WrongPassword"
    assert (await login(anonymous_client, account.user.email, PASSWORD))["__typename"] == (
        "MfaChallenge"
    )


async def test_a_weak_new_password_is_refused_naming_the_field(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    account = await an_enrolled_user()
    token = await sign_in(anonymous_client, account, frozen)

    body = await graphql(
        anonymous_client, CHANGE, {"current": PASSWORD, "new": "short"}, token=token
    )

    assert body["data"]["changePassword"] == {
        "__typename": "ValidationErrors",
        "errors": [{"field": "newPassword", "code": "too_short"}],
    }
