"""Break-glass: who may ask, what it takes, what it opens, and that it ends and is seen."""

from __future__ import annotations

import httpx
import pytest

from audit.models import AuditEvent
from compliance.models import BreakGlassGrant
from identity.roles import Role
from tests.builders import a_full_lead, a_staff_user, a_team, graphql, session_token
from tests.identity.conftest import Clock, an_enrolled_user

REQUEST = """mutation ($reason: String!, $code: String!, $minutes: Int!) {
  requestBreakGlass(reason: $reason, code: $code, minutes: $minutes) {
    __typename
    ... on BreakGlassGrant { id expiresAt active }
    ... on ValidationErrors { errors { field code } }
  }
}"""
REASON = "Customer escalation: verifying a disputed contact record"
READ = "query ($id: ID!) { lead(id: $id) { id email phone } }"


async def _request(
    client: httpx.AsyncClient, token: str, code: str, *, minutes: int = 30, reason: str = REASON
) -> dict[str, object]:
    body = await graphql(
        client, REQUEST, {"reason": reason, "code": code, "minutes": minutes}, token=token
    )
    result: dict[str, object] = body["data"]["requestBreakGlass"]
    return result


async def _stranger_lead() -> str:
    away = await a_team()
    owner = await a_staff_user(Role.SALES_REP, away)
    return str((await a_full_lead(owner, away, "far@example.com")).id)


async def test_a_manager_with_a_fresh_code_reads_any_lead_and_every_use_is_recorded(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    manager = await an_enrolled_user(Role.SALES_MANAGER, team_id=(await a_team()).id)
    token = await session_token(manager.user)
    lead_id = await _stranger_lead()
    before = await graphql(anonymous_client, READ, {"id": lead_id}, token=token)

    granted = await _request(anonymous_client, token, frozen.code(manager.secret))
    after = await graphql(anonymous_client, READ, {"id": lead_id}, token=token)

    assert before["data"]["lead"] is None
    assert granted["__typename"] == "BreakGlassGrant"
    assert granted["active"] is True
    assert after["data"]["lead"] == {
        "id": lead_id,
        "email": "far@example.com",
        "phone": "+442079460912",
    }
    assert after["extensions"]["access"]["breakGlass"]["grantId"] == granted["id"]
    uses = await AuditEvent.filter(action="access.break_glass.used")
    assert [(u.target_id, sorted(u.fields_touched)) for u in uses] == [
        (lead_id, ["email", "id", "phone"])
    ]
    assert uses[0].details["break_glass_grant"] == granted["id"]
    grant = await BreakGlassGrant.get(id=granted["id"])
    assert grant.use_count == 1


async def test_the_grant_ends_on_its_own(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    admin = await an_enrolled_user(Role.ADMIN)
    token = await session_token(admin.user)
    lead_id = await _stranger_lead()
    await _request(anonymous_client, token, frozen.code(admin.secret), minutes=5)

    during = await graphql(anonymous_client, READ, {"id": lead_id}, token=token)
    frozen.advance(minutes=5, seconds=1)
    later = await graphql(anonymous_client, READ, {"id": lead_id}, token=token)

    assert during["data"]["lead"] is not None
    assert later["data"]["lead"] is None
    assert "access" not in later.get("extensions", {})


async def test_ending_early_closes_access_at_once(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    admin = await an_enrolled_user(Role.ADMIN)
    token = await session_token(admin.user)
    lead_id = await _stranger_lead()
    await _request(anonymous_client, token, frozen.code(admin.secret))

    ended = await graphql(
        anonymous_client, "mutation { endBreakGlass { active endedAt } }", token=token
    )
    after = await graphql(anonymous_client, READ, {"id": lead_id}, token=token)

    assert ended["data"]["endBreakGlass"]["active"] is False
    assert after["data"]["lead"] is None
    assert await AuditEvent.filter(action="access.break_glass.ended").count() == 1


async def test_break_glass_widens_reads_but_never_writes(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    manager = await an_enrolled_user(Role.SALES_MANAGER, team_id=(await a_team()).id)
    token = await session_token(manager.user)
    lead_id = await _stranger_lead()
    await _request(anonymous_client, token, frozen.code(manager.secret))

    body = await graphql(
        anonymous_client,
        """mutation ($id: ID!) { updateLead(id: $id, input: {notes: "changed"}) { __typename } }""",
        {"id": lead_id},
        token=token,
    )

    assert body["data"]["updateLead"]["__typename"] == "NotFound"


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.MARKETER, Role.ANALYST, Role.AUDITOR])
async def test_other_roles_may_not_ask(
    anonymous_client: httpx.AsyncClient, frozen: Clock, role: Role
) -> None:
    account = await an_enrolled_user(role)
    token = await session_token(account.user)

    body = await graphql(
        anonymous_client,
        REQUEST,
        {"reason": REASON, "code": frozen.code(account.secret), "minutes": 30},
        token=token,
    )

    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await BreakGlassGrant.all().count() == 0


async def test_a_replayed_code_is_refused(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    admin = await an_enrolled_user(Role.ADMIN)
    token = await session_token(admin.user)
    code = frozen.code(admin.secret)
    first = await _request(anonymous_client, token, code)
    await graphql(anonymous_client, "mutation { endBreakGlass { id } }", token=token)

    again = await _request(anonymous_client, token, code)

    assert first["__typename"] == "BreakGlassGrant"
    assert again["__typename"] == "CodeRejected"
    assert await BreakGlassGrant.all().count() == 1


async def test_a_recovery_code_or_a_wrong_code_is_not_enough(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    admin = await an_enrolled_user(Role.ADMIN)
    token = await session_token(admin.user)

    wrong = await _request(anonymous_client, token, "000000")
    recovery = await _request(anonymous_client, token, "abcde-fghij-klmno")

    assert wrong["__typename"] == "CodeRejected"
    assert recovery["__typename"] == "CodeRejected"
    assert await BreakGlassGrant.all().count() == 0


async def test_the_reason_and_the_length_are_checked_before_the_code(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    admin = await an_enrolled_user(Role.ADMIN)
    token = await session_token(admin.user)

    result = await _request(
        anonymous_client, token, frozen.code(admin.secret), minutes=61, reason="because"
    )

    assert result == {
        "__typename": "ValidationErrors",
        "errors": [
            {"field": "reason", "code": "too_short"},
            {"field": "minutes", "code": "out_of_range"},
        ],
    }
    assert await BreakGlassGrant.all().count() == 0


async def test_a_second_grant_while_one_is_active_is_refused(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    admin = await an_enrolled_user(Role.ADMIN)
    token = await session_token(admin.user)
    await _request(anonymous_client, token, frozen.code(admin.secret))
    frozen.advance(seconds=30)

    second = await _request(anonymous_client, token, frozen.code(admin.secret))

    assert second["__typename"] == "BreakGlassAlreadyActive"
    assert await BreakGlassGrant.all().count() == 1


async def test_auditors_see_grants_with_their_reason_and_use_count(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    admin = await an_enrolled_user(Role.ADMIN)
    await _request(anonymous_client, await session_token(admin.user), frozen.code(admin.secret))
    auditor = await a_staff_user(Role.AUDITOR)
    rep = await a_staff_user(Role.SALES_REP)
    query = "{ breakGlassGrants(activeOnly: true) { role reason useCount active } }"

    seen = await graphql(anonymous_client, query, token=await session_token(auditor))
    refused = await graphql(anonymous_client, query, token=await session_token(rep))

    assert seen["data"]["breakGlassGrants"] == [
        {"role": "admin", "reason": REASON, "useCount": 0, "active": True}
    ]
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    stored = (await BreakGlassGrant.first()).reason
    assert REASON.encode() not in stored


async def test_an_ordinary_read_is_not_flagged_as_break_glass(
    anonymous_client: httpx.AsyncClient,
) -> None:
    team = await a_team()
    rep = await a_staff_user(Role.SALES_REP, team)
    lead = await a_full_lead(rep, team, "near@example.com")
    token = await session_token(rep)

    body = await graphql(anonymous_client, READ, {"id": str(lead.id)}, token=token)

    assert body["data"]["lead"]["email"] == "near@example.com"
    assert "breakGlass" not in body.get("extensions", {}).get("access", {})
    read = await AuditEvent.filter(action="lead.read").get()
    assert read.details["break_glass"] is False
    assert not await AuditEvent.filter(action="access.break_glass.used").exists()
