"""API keys: created by an administrator with recent MFA, scoped, revocable, hashed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from identity.models import ApiKey
from identity.roles import Role
from tests.builders import a_lead, a_staff_user, graphql, session_token
from tests.identity.conftest import Clock

CREATE_KEY = """mutation ($input: ApiKeyInput!) {
  createApiKey(input: $input) {
    __typename
    ... on ApiKeyCreated { token apiKey { id prefix scopes lastUsedAt } }
    ... on StepUpRequired { maxAgeMinutes }
    ... on Forbidden { message }
    ... on ValidationErrors { errors { field code } }
  }
}"""
CAPTURE = """mutation ($input: NewLeadInput!) {
  createLead(input: $input) { __typename ... on LeadPayload { lead { id } } }
}"""
RECORD = """mutation ($input: ActivityInput!) { recordActivity(input: $input) { __typename } }"""


async def _admin_token(mfa_minutes_ago: int = 0) -> str:
    admin = await a_staff_user(Role.ADMIN)
    verified = datetime.now(UTC) - timedelta(minutes=mfa_minutes_ago)
    return await session_token(admin, mfa_verified_at=verified)


async def _create(
    client: httpx.AsyncClient, token: str, scopes: list[str], **extra: Any
) -> dict[str, Any]:
    variables = {"input": {"name": "Website form", "scopes": scopes, **extra}}
    result: dict[str, Any] = (await graphql(client, CREATE_KEY, variables, token=token))["data"][
        "createApiKey"
    ]
    return result


async def test_an_admin_creates_a_key_shown_once_and_stored_as_a_digest(
    anonymous_client: httpx.AsyncClient,
) -> None:
    created = await _create(anonymous_client, await _admin_token(), ["LEADS_CAPTURE"])

    assert created["__typename"] == "ApiKeyCreated"
    token = created["token"]
    assert token.startswith(f"lvk_{created['apiKey']['prefix']}_")
    row = await ApiKey.get(id=created["apiKey"]["id"])
    assert token.split("_", 2)[2] not in repr(await ApiKey.all().values())
    assert row.scopes == ["leads:capture"]


async def test_creating_a_key_needs_mfa_within_the_step_up_window(
    anonymous_client: httpx.AsyncClient,
) -> None:
    stale = await _create(anonymous_client, await _admin_token(11), ["LEADS_CAPTURE"])
    assert stale == {"__typename": "StepUpRequired", "maxAgeMinutes": 10}
    assert not await ApiKey.exists()


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMIN])
async def test_only_admins_create_keys(anonymous_client: httpx.AsyncClient, role: Role) -> None:
    token = await session_token(await a_staff_user(role))
    assert (await _create(anonymous_client, token, ["LEADS_CAPTURE"]))["__typename"] == "Forbidden"


async def test_a_key_without_scopes_is_refused(anonymous_client: httpx.AsyncClient) -> None:
    refused = await _create(anonymous_client, await _admin_token(), [])
    assert refused == {
        "__typename": "ValidationErrors",
        "errors": [{"field": "scopes", "code": "required"}],
    }


async def test_a_capture_key_creates_leads_and_nothing_else(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    created = await _create(anonymous_client, await _admin_token(), ["LEADS_CAPTURE"])
    key = created["token"]
    lead = await a_lead()

    captured = await graphql(
        anonymous_client,
        CAPTURE,
        {"input": {"email": "new@example.com", "source": "WEB_FORM"}},
        token=key,
    )
    activity = await graphql(
        anonymous_client, RECORD, {"input": {"leadId": str(lead.id), "type": "CALL"}}, token=key
    )
    reads = await graphql(anonymous_client, "{ leads { totalCount } }", token=key)
    me = await graphql(anonymous_client, "{ me { account { email } } }", token=key)

    assert captured["data"]["createLead"]["__typename"] == "LeadPayload"
    assert activity["data"] is None  # a mutation is refused whole
    assert reads["data"] == {"leads": None}  # a query loses only its denied fields
    assert me["data"] == {"me": None}
    for refused in (activity, reads, me):
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    row = await ApiKey.get(id=created["apiKey"]["id"])
    assert row.last_used_at == frozen.now


async def _status_with(client: httpx.AsyncClient, key: str) -> int:
    response = await client.post(
        "/graphql",
        json={
            "query": CAPTURE,
            "variables": {"input": {"email": "x@example.com", "source": "API"}},
        },
        headers={"Authorization": f"Bearer {key}"},
    )
    return response.status_code


async def test_a_revoked_key_is_refused(anonymous_client: httpx.AsyncClient) -> None:
    admin = await _admin_token()
    created = await _create(anonymous_client, admin, ["LEADS_CAPTURE"])
    revoke = "mutation ($id: ID!) { revokeApiKey(id: $id) { __typename } }"

    body = await graphql(anonymous_client, revoke, {"id": created["apiKey"]["id"]}, token=admin)

    assert body["data"]["revokeApiKey"]["__typename"] == "ApiKeyPayload"
    assert await _status_with(anonymous_client, created["token"]) == 401


async def test_an_expired_key_is_refused(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    expires = (frozen.now + timedelta(days=1)).isoformat()
    created = await _create(
        anonymous_client, await _admin_token(), ["LEADS_CAPTURE"], expiresAt=expires
    )
    assert await _status_with(anonymous_client, created["token"]) == 200
    frozen.advance(days=1)
    assert await _status_with(anonymous_client, created["token"]) == 401


async def test_a_forged_secret_with_a_real_prefix_is_refused(
    anonymous_client: httpx.AsyncClient,
) -> None:
    created = await _create(anonymous_client, await _admin_token(), ["LEADS_CAPTURE"])
    forged = created["token"][:-4] + ("AAAA" if not created["token"].endswith("AAAA") else "BBBB")
    assert await _status_with(anonymous_client, forged) == 401


async def test_an_activity_key_records_engagement_on_a_lead_it_cannot_read(
    anonymous_client: httpx.AsyncClient,
) -> None:
    created = await _create(anonymous_client, await _admin_token(), ["ACTIVITIES_RECORD"])
    lead = await a_lead()

    recorded = await graphql(
        anonymous_client,
        RECORD,
        {"input": {"leadId": str(lead.id), "type": "EMAIL_OPEN"}},
        token=created["token"],
    )
    read = await graphql(
        anonymous_client,
        "query ($id: ID!) { lead(id: $id) { email } }",
        {"id": str(lead.id)},
        token=created["token"],
    )

    assert recorded["data"]["recordActivity"]["__typename"] == "ActivityPayload"
    assert read["errors"][0]["extensions"]["code"] == "FORBIDDEN"
