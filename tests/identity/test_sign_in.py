"""Signing in over GraphQL: password, MFA, sessions, and every way it must fail."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from audit.models import AuditEvent
from identity import passwords
from identity.models import StaffSession, StaffUser
from identity.roles import Role
from tests.builders import graphql
from tests.identity.conftest import PASSWORD, Account, Clock, an_enrolled_user

LOGIN = """mutation ($email: String!, $password: String!) {
  login(email: $email, password: $password) {
    __typename
    ... on MfaChallenge { challengeToken expiresAt }
    ... on SignInFailed { message }
    ... on TooManyAttempts { message retryAfterSeconds locked }
    ... on EnrolmentRequired { message }
  }
}"""
VERIFY = """mutation ($code: String!) {
  verifyMfa(code: $code) {
    __typename
    ... on SignedIn { token account { email role } session { id expiresAt } }
    ... on CodeRejected { message }
    ... on TooManyAttempts { retryAfterSeconds locked }
  }
}"""
ME = "{ me { account { email role mfaEnrolled } session { id mfaVerifiedAt } } }"
LEADS = "{ leads(first: 1) { totalCount } }"


async def login(client: httpx.AsyncClient, email: str, password: str) -> dict[str, Any]:
    body = await graphql(client, LOGIN, {"email": email, "password": password})
    result: dict[str, Any] = body["data"]["login"]
    return result


async def challenge(client: httpx.AsyncClient, account: Account) -> str:
    result = await login(client, account.user.email, account.password)
    assert result["__typename"] == "MfaChallenge", result
    token: str = result["challengeToken"]
    return token


async def sign_in(client: httpx.AsyncClient, account: Account, frozen: Clock) -> str:
    pending = await challenge(client, account)
    body = await graphql(client, VERIFY, {"code": frozen.code(account.secret)}, token=pending)
    result = body["data"]["verifyMfa"]
    assert result["__typename"] == "SignedIn", result
    token: str = result["token"]
    return token


@pytest.mark.parametrize("role", list(Role))
async def test_every_role_signs_in_with_password_and_totp(
    anonymous_client: httpx.AsyncClient, frozen: Clock, role: Role
) -> None:
    account = await an_enrolled_user(role)

    token = await sign_in(anonymous_client, account, frozen)
    me = (await graphql(anonymous_client, ME, token=token))["data"]["me"]

    assert me["account"] == {
        "email": account.user.email,
        "role": role.name,
        "mfaEnrolled": True,
    }
    assert me["session"]["mfaVerifiedAt"] is not None
    actions = await AuditEvent.filter(target_id=str(account.user.id)).values_list(
        "action", flat=True
    )
    assert list(actions) == [
        "auth.login.password_accepted",
        "auth.mfa.succeeded",
        "auth.login.succeeded",
    ]


async def test_the_session_token_changes_when_mfa_is_passed(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    account = await an_enrolled_user()
    pending = await challenge(anonymous_client, account)
    body = await graphql(
        anonymous_client, VERIFY, {"code": frozen.code(account.secret)}, token=pending
    )
    active = body["data"]["verifyMfa"]["token"]

    assert active != pending
    stale = await anonymous_client.post(
        "/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {pending}"}
    )
    assert stale.status_code == 401


async def test_only_digests_of_session_tokens_are_stored(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    account = await an_enrolled_user()
    token = await sign_in(anonymous_client, account, frozen)
    stored = await StaffSession.all().values_list("token_hash", flat=True)
    assert token not in stored
    assert len(token) >= len("lvs_") + 43  # 32 random bytes, base64url


async def test_a_wrong_password_fails_without_a_session(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    account = await an_enrolled_user()
    result = await login(anonymous_client, account.user.email, "wrong horse battery staple")
    assert result == {"__typename": "SignInFailed", "message": "email or password is incorrect"}
    assert not await StaffSession.exists(user_id=account.user.id)
    event = await AuditEvent.get(action="auth.login.failed")
    assert event.target_id == str(account.user.id)
    assert event.details == {"reason": "wrong_password"}


async def test_an_unknown_account_fails_the_same_way_after_checking_the_dummy_hash(
    anonymous_client: httpx.AsyncClient, frozen: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = await an_enrolled_user()
    checked: list[str] = []
    real = passwords._verify_blocking

    def spy(stored: str, password: str) -> bool:
        checked.append(stored)
        return real(stored, password)

    monkeypatch.setattr(passwords, "_verify_blocking", spy)

    unknown = await login(anonymous_client, "nobody@staff.example", PASSWORD)
    known = await login(anonymous_client, account.user.email, "wrong horse battery staple")

    assert unknown == known
    assert checked == [passwords.dummy_hash(), account.user.password_hash]
    events = await AuditEvent.filter(action="auth.login.failed").order_by("id")
    assert [(e.target_id, e.details["reason"]) for e in events] == [
        (None, "unknown_account"),
        (str(account.user.id), "wrong_password"),
    ]


async def test_a_disabled_account_cannot_sign_in_and_loses_its_sessions(
    anonymous_client: httpx.AsyncClient, frozen: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = await an_enrolled_user()
    token = await sign_in(anonymous_client, account, frozen)
    await StaffUser.filter(id=account.user.id).update(is_active=False)
    checked: list[str] = []
    real = passwords._verify_blocking
    monkeypatch.setattr(passwords, "_verify_blocking", lambda s, p: checked.append(s) or real(s, p))

    result = await login(anonymous_client, account.user.email, account.password)
    existing = await anonymous_client.post(
        "/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {token}"}
    )

    assert result["__typename"] == "SignInFailed"
    assert checked == [passwords.dummy_hash()]
    assert existing.status_code == 401


async def test_a_password_only_session_cannot_query_leads(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    account = await an_enrolled_user(Role.MARKETER)
    pending = await challenge(anonymous_client, account)

    for query in (LEADS, ME, 'mutation { stepUp(code: "123456") { __typename } }'):
        body = await graphql(anonymous_client, query, token=pending)
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "MFA_REQUIRED"


async def test_anonymous_callers_can_only_sign_in(anonymous_client: httpx.AsyncClient) -> None:
    for query in (LEADS, ME, "{ staffUsers { email } }", "mutation { logout }"):
        body = await graphql(anonymous_client, query)
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_gated_field_cannot_hide_in_a_fragment(anonymous_client: httpx.AsyncClient) -> None:
    query = """query { ...F } fragment F on Query { ... on Query { leads { totalCount } } }"""
    body = await graphql(anonymous_client, query)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_wrong_code_is_refused_and_recorded(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    account = await an_enrolled_user()
    pending = await challenge(anonymous_client, account)
    wrong = f"{(int(frozen.code(account.secret)) + 1) % 1_000_000:06d}"

    body = await graphql(anonymous_client, VERIFY, {"code": wrong}, token=pending)

    assert body["data"]["verifyMfa"] == {
        "__typename": "CodeRejected",
        "message": "the code is not valid",
    }
    assert await AuditEvent.exists(action="auth.mfa.failed", target_id=str(account.user.id))


async def test_a_code_from_two_steps_ago_has_expired(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    account = await an_enrolled_user()
    pending = await challenge(anonymous_client, account)
    old = frozen.code(account.secret)
    frozen.advance(seconds=60)

    body = await graphql(anonymous_client, VERIFY, {"code": old}, token=pending)

    assert body["data"]["verifyMfa"]["__typename"] == "CodeRejected"


async def test_a_code_from_one_step_ago_is_still_accepted(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    account = await an_enrolled_user()
    pending = await challenge(anonymous_client, account)
    code = frozen.code(account.secret)
    frozen.advance(seconds=30)

    body = await graphql(anonymous_client, VERIFY, {"code": code}, token=pending)

    assert body["data"]["verifyMfa"]["__typename"] == "SignedIn"


async def test_a_replayed_code_is_refused_and_recorded_as_a_replay(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    account = await an_enrolled_user()
    code = frozen.code(account.secret)
    first = await challenge(anonymous_client, account)
    assert (await graphql(anonymous_client, VERIFY, {"code": code}, token=first))["data"][
        "verifyMfa"
    ]["__typename"] == "SignedIn"

    second = await challenge(anonymous_client, account)
    body = await graphql(anonymous_client, VERIFY, {"code": code}, token=second)

    assert body["data"]["verifyMfa"]["__typename"] == "CodeRejected"
    assert await AuditEvent.exists(action="auth.mfa.replayed", target_id=str(account.user.id))


async def test_the_mfa_challenge_expires_after_five_minutes(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    account = await an_enrolled_user()
    pending = await challenge(anonymous_client, account)
    frozen.advance(minutes=5)

    response = await anonymous_client.post(
        "/graphql",
        json={"query": VERIFY, "variables": {"code": frozen.code(account.secret)}},
        headers={"Authorization": f"Bearer {pending}"},
    )

    assert response.status_code == 401


async def test_an_account_without_mfa_cannot_get_a_session(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    account = await an_enrolled_user(mfa_enrolled_at=None)
    result = await login(anonymous_client, account.user.email, account.password)
    assert result["__typename"] == "EnrolmentRequired"
    assert not await StaffSession.exists(user_id=account.user.id)


async def _status(client: httpx.AsyncClient, token: str) -> int:
    response = await client.post(
        "/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {token}"}
    )
    return response.status_code


async def test_an_idle_session_expires_after_thirty_minutes(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    token = await sign_in(anonymous_client, await an_enrolled_user(), frozen)
    frozen.advance(minutes=29)
    assert await _status(anonymous_client, token) == 200
    frozen.advance(minutes=29)
    assert await _status(anonymous_client, token) == 200
    frozen.advance(minutes=30)
    assert await _status(anonymous_client, token) == 401


async def test_a_busy_session_still_ends_after_twelve_hours(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    token = await sign_in(anonymous_client, await an_enrolled_user(), frozen)
    for _ in range(35):
        frozen.advance(minutes=20)
        assert await _status(anonymous_client, token) == 200
    frozen.advance(minutes=20)
    assert await _status(anonymous_client, token) == 401


async def test_logout_ends_the_session(anonymous_client: httpx.AsyncClient, frozen: Clock) -> None:
    account = await an_enrolled_user()
    token = await sign_in(anonymous_client, account, frozen)

    body = await graphql(anonymous_client, "mutation { logout }", token=token)

    assert body["data"] == {"logout": True}
    assert await _status(anonymous_client, token) == 401
    event = await AuditEvent.get(action="auth.session.revoked")
    assert event.details == {"reason": "logout"}


async def test_revoke_all_ends_every_session_of_mine_only(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    account, other = await an_enrolled_user(), await an_enrolled_user()
    first = await sign_in(anonymous_client, account, frozen)
    frozen.advance(seconds=30)
    second = await sign_in(anonymous_client, account, frozen)
    others = await sign_in(anonymous_client, other, frozen)

    body = await graphql(anonymous_client, "mutation { revokeMySessions { count } }", token=first)

    assert body["data"]["revokeMySessions"]["count"] == 2
    assert await _status(anonymous_client, first) == 401
    assert await _status(anonymous_client, second) == 401
    assert await _status(anonymous_client, others) == 200


async def test_sign_in_events_hold_no_email_password_or_code(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    account = await an_enrolled_user()
    await login(anonymous_client, "nobody@staff.example", "a wrong password here")
    await login(anonymous_client, account.user.email, "a wrong password here")
    token = await sign_in(anonymous_client, account, frozen)

    rows = await AuditEvent.all().values()
    dumped = repr(rows)
    assert len(rows) >= 5
    for secret in (
        "nobody@staff.example",
        account.user.email,
        "a wrong password here",
        PASSWORD,
        frozen.code(account.secret),
        token,
    ):
        assert secret not in dumped
    assert timedelta(0) <= rows[-1]["occurred_at"] - rows[0]["occurred_at"]
