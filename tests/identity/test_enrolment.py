"""Enrolment: an administrator's one-time code, a TOTP seed, confirmation, recovery codes."""

from __future__ import annotations

from typing import Any

import httpx

from audit.models import AuditEvent
from identity import accounts
from identity.admin import OPERATOR
from identity.models import RecoveryCode, StaffUser
from identity.policy import AuthPolicy
from identity.roles import Role
from tests.builders import graphql
from tests.identity.conftest import PASSWORD, Account, Clock, an_enrolled_user
from tests.identity.test_sign_in import ME, VERIFY, challenge, login, sign_in

BEGIN = """mutation ($code: String!, $password: String!) {
  beginMfaEnrolment(enrolmentCode: $code, password: $password) {
    __typename
    ... on MfaEnrolment { enrolmentToken secret otpauthUri qrCodeSvg expiresAt }
    ... on EnrolmentCodeInvalid { message }
    ... on ValidationErrors { errors { field code message } }
  }
}"""
CONFIRM = """mutation ($code: String!) {
  confirmMfaEnrolment(code: $code) {
    __typename
    ... on SignedIn { token recoveryCodes account { mfaEnrolled } }
    ... on CodeRejected { message }
  }
}"""


async def _new_account(role: Role = Role.SALES_REP) -> tuple[StaffUser, str]:
    created = await accounts.create_user(
        OPERATOR, "grace.hopper@staff.example", "Grace Hopper", role, AuthPolicy()
    )
    return created.user, created.enrolment.code


async def _begin(client: httpx.AsyncClient, code: str, password: str) -> dict[str, Any]:
    body = await graphql(client, BEGIN, {"code": code, "password": password})
    result: dict[str, Any] = body["data"]["beginMfaEnrolment"]
    return result


async def test_a_new_account_enrols_and_gets_ten_recovery_codes(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    user, code = await _new_account()

    started = await _begin(anonymous_client, code, PASSWORD)
    assert started["__typename"] == "MfaEnrolment"
    assert started["otpauthUri"].startswith("otpauth://totp/LeadVault:")
    assert started["secret"] in started["otpauthUri"]
    assert started["qrCodeSvg"].startswith("<svg")
    token = started["enrolmentToken"]
    leads = await graphql(anonymous_client, "{ leads { totalCount } }", token=token)
    assert leads["errors"][0]["extensions"]["code"] == "MFA_ENROLMENT_REQUIRED"

    body = await graphql(
        anonymous_client, CONFIRM, {"code": frozen.code(started["secret"])}, token=token
    )

    signed_in = body["data"]["confirmMfaEnrolment"]
    assert signed_in["__typename"] == "SignedIn"
    assert signed_in["account"] == {"mfaEnrolled": True}
    assert len(set(signed_in["recoveryCodes"])) == 10
    assert (await graphql(anonymous_client, ME, token=signed_in["token"]))["data"]["me"]
    stored = await RecoveryCode.filter(user_id=user.id).values_list("code_hash", flat=True)
    assert len(stored) == 10
    assert not set(signed_in["recoveryCodes"]) & set(stored)
    row = await StaffUser.get(id=user.id)
    assert row.password_hash is not None
    assert row.password_hash.startswith("$argon2id$")
    assert started["secret"].encode() not in row.totp_secret


async def test_an_enrolment_code_works_once(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    _, code = await _new_account()
    assert (await _begin(anonymous_client, code, PASSWORD))["__typename"] == "MfaEnrolment"
    again = await _begin(anonymous_client, code, PASSWORD)
    assert again["__typename"] == "EnrolmentCodeInvalid"


async def test_an_enrolment_code_expires_after_72_hours(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    _, code = await _new_account()
    frozen.advance(hours=72)
    assert (await _begin(anonymous_client, code, PASSWORD))["__typename"] == "EnrolmentCodeInvalid"


async def test_a_weak_new_password_is_refused_and_the_code_stays_usable(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    _, code = await _new_account()
    refused = await _begin(anonymous_client, code, "grace hopper 1906")
    assert refused == {
        "__typename": "ValidationErrors",
        "errors": [
            {
                "field": "password",
                "code": "contains_account_name",
                "message": "password must not contain the account's email address or name",
            }
        ],
    }
    assert (await _begin(anonymous_client, code, PASSWORD))["__typename"] == "MfaEnrolment"


async def test_enrolment_is_confirmed_only_by_a_valid_code(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    user, code = await _new_account()
    started = await _begin(anonymous_client, code, PASSWORD)
    wrong = f"{(int(frozen.code(started['secret'])) + 7) % 1_000_000:06d}"

    body = await graphql(
        anonymous_client, CONFIRM, {"code": wrong}, token=started["enrolmentToken"]
    )

    assert body["data"]["confirmMfaEnrolment"]["__typename"] == "CodeRejected"
    assert (await StaffUser.get(id=user.id)).mfa_enrolled_at is None


async def test_a_recovery_code_signs_in_once(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    user, code = await _new_account()
    started = await _begin(anonymous_client, code, PASSWORD)
    confirmed = await graphql(
        anonymous_client,
        CONFIRM,
        {"code": frozen.code(started["secret"])},
        token=started["enrolmentToken"],
    )
    recovery = confirmed["data"]["confirmMfaEnrolment"]["recoveryCodes"][0]
    account = Account(user, PASSWORD, started["secret"])

    first = await graphql(
        anonymous_client,
        VERIFY,
        {"code": recovery.upper()},
        token=await challenge(anonymous_client, account),
    )
    second = await graphql(
        anonymous_client,
        VERIFY,
        {"code": recovery},
        token=await challenge(anonymous_client, account),
    )

    assert first["data"]["verifyMfa"]["__typename"] == "SignedIn"
    assert second["data"]["verifyMfa"]["__typename"] == "CodeRejected"
    used = await AuditEvent.get(action="auth.recovery_code.used")
    assert used.details == {"remaining": 9}
    assert await AuditEvent.exists(action="auth.mfa.replayed", target_id=str(user.id))


async def test_recovery_codes_are_regenerated_only_after_a_recent_step_up(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    account = await an_enrolled_user()
    token = await sign_in(anonymous_client, account, frozen)
    regenerate = (
        "mutation { regenerateRecoveryCodes { __typename "
        "... on RecoveryCodes { codes } ... on StepUpRequired { maxAgeMinutes } } }"
    )
    frozen.advance(minutes=11)
    stale = await graphql(anonymous_client, regenerate, token=token)
    assert stale["data"]["regenerateRecoveryCodes"] == {
        "__typename": "StepUpRequired",
        "maxAgeMinutes": 10,
    }

    step_up = await graphql(
        anonymous_client,
        "mutation ($c: String!) { stepUp(code: $c) { __typename } }",
        {"c": frozen.code(account.secret)},
        token=token,
    )
    assert step_up["data"]["stepUp"]["__typename"] == "MfaConfirmed"
    fresh = await graphql(anonymous_client, regenerate, token=token)
    assert len(fresh["data"]["regenerateRecoveryCodes"]["codes"]) == 10
    assert await RecoveryCode.filter(user_id=account.user.id).count() == 10


async def test_an_admin_mfa_reset_forces_re_enrolment_with_the_current_password(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    account = await an_enrolled_user()
    token = await sign_in(anonymous_client, account, frozen)
    reset = await accounts.reset_mfa(OPERATOR, account.user.id, AuthPolicy())

    assert (
        await anonymous_client.post(
            "/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {token}"}
        )
    ).status_code == 401
    assert (await login(anonymous_client, account.user.email, PASSWORD))["__typename"] == (
        "EnrolmentRequired"
    )
    wrong = await _begin(anonymous_client, reset.enrolment.code, "not the password at all")
    assert wrong["__typename"] == "EnrolmentCodeInvalid"
    started = await _begin(anonymous_client, reset.enrolment.code, PASSWORD)
    assert started["__typename"] == "MfaEnrolment"
    assert started["secret"] != account.secret
    event = await AuditEvent.get(action="auth.mfa.reset")
    assert (event.actor_type, event.target_id) == ("operator", str(account.user.id))
