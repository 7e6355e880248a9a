"""Staff administration over GraphQL: administrators only, every change recorded."""

from __future__ import annotations

import httpx
import pytest

from audit.models import AuditEvent
from identity.models import StaffUser
from identity.roles import Role
from tests.builders import a_staff_user, a_team, graphql, session_token

CREATE = """mutation ($input: StaffUserInput!) {
  createStaffUser(input: $input) {
    __typename
    ... on EnrolmentIssued { enrolmentCode account { email role teamId mfaEnrolled } }
    ... on ValidationErrors { errors { field code } }
    ... on Forbidden { message }
    ... on NotFound { entity }
  }
}"""
SET_ACTIVE = """mutation ($id: ID!, $active: Boolean!) {
  setStaffUserActive(id: $id, active: $active) {
    __typename ... on StaffAccountPayload { account { isActive } }
  }
}"""


async def test_an_admin_creates_an_account_with_a_one_time_enrolment_code(
    anonymous_client: httpx.AsyncClient,
) -> None:
    admin = await a_staff_user(Role.ADMIN)
    team = await a_team("North")
    variables = {
        "input": {
            "email": " Grace.Hopper@Staff.Example ",
            "displayName": "Grace Hopper",
            "role": "SALES_MANAGER",
            "teamId": str(team.id),
        }
    }

    body = await graphql(anonymous_client, CREATE, variables, token=await session_token(admin))

    created = body["data"]["createStaffUser"]
    assert created["__typename"] == "EnrolmentIssued"
    assert created["enrolmentCode"].startswith("lve_")
    assert created["account"] == {
        "email": "grace.hopper@staff.example",
        "role": "SALES_MANAGER",
        "teamId": str(team.id),
        "mfaEnrolled": False,
    }
    user = await StaffUser.get(email="grace.hopper@staff.example")
    assert created["enrolmentCode"] not in repr(await StaffUser.filter(id=user.id).values())
    event = await AuditEvent.get(action="auth.user.created")
    assert (event.actor_id, event.target_id) == (str(admin.id), str(user.id))


async def test_account_input_is_validated_and_nothing_is_written(
    anonymous_client: httpx.AsyncClient,
) -> None:
    token = await session_token(await a_staff_user(Role.ADMIN))
    bad = {"input": {"email": "not-an-email", "displayName": "  ", "role": "ANALYST"}}

    body = await graphql(anonymous_client, CREATE, bad, token=token)

    assert body["data"]["createStaffUser"] == {
        "__typename": "ValidationErrors",
        "errors": [
            {"field": "email", "code": "invalid_email"},
            {"field": "displayName", "code": "required"},
        ],
    }
    assert await StaffUser.all().count() == 1


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMIN])
async def test_other_roles_cannot_administer_accounts(
    anonymous_client: httpx.AsyncClient, role: Role
) -> None:
    caller, target = await a_staff_user(role), await a_staff_user()
    token = await session_token(caller)
    create = {"input": {"email": "x@staff.example", "displayName": "X", "role": "ADMIN"}}

    created = await graphql(anonymous_client, CREATE, create, token=token)
    disabled = await graphql(
        anonymous_client, SET_ACTIVE, {"id": str(target.id), "active": False}, token=token
    )
    listed = await graphql(anonymous_client, "{ staffUsers { email } }", token=token)

    assert created["data"]["createStaffUser"]["__typename"] == "Forbidden"
    assert disabled["data"]["setStaffUserActive"]["__typename"] == "Forbidden"
    assert listed["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await StaffUser.get(id=target.id)).is_active
    assert not await StaffUser.exists(email="x@staff.example")


async def test_disabling_an_account_ends_its_sessions(anonymous_client: httpx.AsyncClient) -> None:
    admin_token = await session_token(await a_staff_user(Role.ADMIN))
    target = await a_staff_user()
    target_token = await session_token(target)

    body = await graphql(
        anonymous_client, SET_ACTIVE, {"id": str(target.id), "active": False}, token=admin_token
    )

    assert body["data"]["setStaffUserActive"]["account"] == {"isActive": False}
    response = await anonymous_client.post(
        "/graphql",
        json={"query": "{ leads { totalCount } }"},
        headers={"Authorization": f"Bearer {target_token}"},
    )
    assert response.status_code == 401
    assert await AuditEvent.exists(action="auth.user.disabled", target_id=str(target.id))


async def test_the_last_administrator_cannot_be_disabled(
    anonymous_client: httpx.AsyncClient,
) -> None:
    admin = await a_staff_user(Role.ADMIN)
    other = await a_staff_user(Role.ADMIN)
    token = await session_token(admin)

    itself = await graphql(
        anonymous_client, SET_ACTIVE, {"id": str(admin.id), "active": False}, token=token
    )
    second = await graphql(
        anonymous_client, SET_ACTIVE, {"id": str(other.id), "active": False}, token=token
    )
    await StaffUser.filter(id=admin.id).update(is_active=False)
    await StaffUser.filter(id=other.id).update(is_active=True)
    last = await graphql(
        anonymous_client,
        SET_ACTIVE,
        {"id": str(other.id), "active": False},
        token=await session_token(await a_staff_user(Role.SALES_REP)),
    )

    assert itself["data"]["setStaffUserActive"]["__typename"] == "Forbidden"
    assert second["data"]["setStaffUserActive"]["__typename"] == "StaffAccountPayload"
    assert last["data"]["setStaffUserActive"]["__typename"] == "Forbidden"


async def test_mfa_reset_needs_recent_mfa(anonymous_client: httpx.AsyncClient) -> None:
    from datetime import UTC, datetime, timedelta

    admin = await a_staff_user(Role.ADMIN)
    target = await a_staff_user()
    stale = await session_token(admin, mfa_verified_at=datetime.now(UTC) - timedelta(minutes=30))
    reset = """mutation ($id: ID!) { resetStaffMfa(id: $id) {
      __typename ... on EnrolmentIssued { enrolmentCode } } }"""

    refused = await graphql(anonymous_client, reset, {"id": str(target.id)}, token=stale)
    allowed = await graphql(
        anonymous_client, reset, {"id": str(target.id)}, token=await session_token(admin)
    )

    assert refused["data"]["resetStaffMfa"]["__typename"] == "StepUpRequired"
    assert allowed["data"]["resetStaffMfa"]["enrolmentCode"].startswith("lve_")
    event = await AuditEvent.get(action="auth.mfa.reset")
    assert event.actor_id == str(admin.id)
    assert event.mfa_age_seconds is not None
