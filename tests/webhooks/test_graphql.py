"""Administering webhooks over GraphQL: administrators only, a recent stepUp wherever a
secret is shown, the secret shown once, every change audited without the URL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from audit.models import AuditEvent
from compliance.events.models import WebhookEndpoint
from identity.roles import Role
from server.settings import Environment
from tests.builders import a_staff_user, graphql, session_token
from tests.conftest import app_client, make_settings

FIELDS = "id url eventTypes enabled disabledReason previousSecretUntil"
CREATE = f"""mutation ($input: WebhookEndpointInput!) {{
  createWebhookEndpoint(input: $input) {{
    __typename
    ... on WebhookSecretIssued {{ secret endpoint {{ {FIELDS} }} }}
    ... on ValidationErrors {{ errors {{ field code }} }}
    ... on StepUpRequired {{ maxAgeMinutes }}
    ... on Forbidden {{ message }}
  }}
}}"""
ROTATE = f"""mutation ($id: ID!, $hours: Int) {{
  rotateWebhookSecret(id: $id, overlapHours: $hours) {{
    __typename
    ... on WebhookSecretIssued {{ secret endpoint {{ {FIELDS} }} }}
    ... on ValidationErrors {{ errors {{ field code }} }}
    ... on StepUpRequired {{ maxAgeMinutes }}
    ... on NotFound {{ message }}
  }}
}}"""
SWITCH = f"""mutation ($id: ID!, $enabled: Boolean!) {{
  setWebhookEndpointEnabled(id: $id, enabled: $enabled) {{
    __typename ... on WebhookEndpointPayload {{ endpoint {{ {FIELDS} }} }}
    ... on NotFound {{ message }} ... on Forbidden {{ message }}
  }}
}}"""
LIST = """{ webhookEndpoints { id url description eventTypes enabled
  deliveries { id status eventType attempts attemptLog { statusCode latencyMs error } } } }"""
URL = "https://hooks.example.com/leadvault?token=s3cr3t-in-the-url"


async def admin_token(mfa_minutes_ago: int = 0) -> str:
    admin = await a_staff_user(Role.ADMIN)
    verified = datetime.now(UTC) - timedelta(minutes=mfa_minutes_ago)
    return await session_token(admin, mfa_verified_at=verified)


async def create(client: httpx.AsyncClient, token: str, **values: Any) -> dict[str, Any]:
    variables = {"input": {"url": URL, "eventTypes": ["LEAD_CREATED"], **values}}
    body = await graphql(client, CREATE, variables, token=token)
    result: dict[str, Any] = body["data"]["createWebhookEndpoint"]
    return result


async def test_an_admin_registers_an_endpoint_and_sees_its_secret_once(
    anonymous_client: httpx.AsyncClient,
) -> None:
    token = await admin_token()

    created = await create(anonymous_client, token, description="CRM sync")
    listed = await graphql(anonymous_client, LIST, token=token)

    assert created["__typename"] == "WebhookSecretIssued"
    assert created["secret"].startswith("whsec_")
    assert created["endpoint"]["eventTypes"] == ["LEAD_CREATED"]
    [endpoint] = listed["data"]["webhookEndpoints"]
    assert endpoint["description"] == "CRM sync"
    assert created["secret"] not in str(listed)
    row = await WebhookEndpoint.get(id=endpoint["id"])
    assert created["secret"].encode() not in bytes(row.secret)
    audit = await AuditEvent.get(action="webhook.endpoint.created")
    assert "s3cr3t" not in str(audit.details)
    assert "hooks.example.com" not in str(audit.details)


async def test_registering_or_rotating_needs_a_recent_step_up(
    anonymous_client: httpx.AsyncClient,
) -> None:
    fresh = await create(anonymous_client, await admin_token())
    stale_token = await admin_token(mfa_minutes_ago=11)

    refused = await create(anonymous_client, stale_token)
    rotation = await graphql(
        anonymous_client, ROTATE, {"id": fresh["endpoint"]["id"]}, token=stale_token
    )

    assert refused == {"__typename": "StepUpRequired", "maxAgeMinutes": 10}
    assert rotation["data"]["rotateWebhookSecret"]["__typename"] == "StepUpRequired"
    assert await WebhookEndpoint.all().count() == 1


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMIN])
async def test_only_admins_administer_webhooks(
    anonymous_client: httpx.AsyncClient, role: Role
) -> None:
    endpoint = (await create(anonymous_client, await admin_token()))["endpoint"]
    token = await session_token(await a_staff_user(role))

    refused = await create(anonymous_client, token)
    switched = await graphql(
        anonymous_client, SWITCH, {"id": endpoint["id"], "enabled": False}, token=token
    )
    listed = await graphql(anonymous_client, LIST, token=token)

    assert refused["__typename"] == "Forbidden"
    assert switched["data"]["setWebhookEndpointEnabled"]["__typename"] == "Forbidden"
    assert listed["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await WebhookEndpoint.get(id=endpoint["id"])).enabled


async def test_signed_out_callers_cannot_list_endpoints(
    anonymous_client: httpx.AsyncClient,
) -> None:
    listed = await graphql(anonymous_client, LIST)

    assert listed["data"] is None
    assert listed["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_production_refuses_plain_http_naming_the_field() -> None:
    async with app_client(make_settings(Environment.PROD)) as client:
        refused = await create(client, await admin_token(), url="http://hooks.example.com/in")

    assert refused == {
        "__typename": "ValidationErrors",
        "errors": [{"field": "url", "code": "https_required"}],
    }
    assert not await WebhookEndpoint.exists()


async def test_rotation_gives_a_new_secret_and_an_overlap(
    anonymous_client: httpx.AsyncClient,
) -> None:
    token = await admin_token()
    first = await create(anonymous_client, token)

    rotated = (
        await graphql(
            anonymous_client, ROTATE, {"id": first["endpoint"]["id"], "hours": 6}, token=token
        )
    )["data"]["rotateWebhookSecret"]
    too_long = (
        await graphql(
            anonymous_client, ROTATE, {"id": first["endpoint"]["id"], "hours": 500}, token=token
        )
    )["data"]["rotateWebhookSecret"]

    assert rotated["secret"] != first["secret"]
    overlap_end = datetime.fromisoformat(rotated["endpoint"]["previousSecretUntil"])
    assert timedelta(hours=5) < overlap_end - datetime.now(UTC) <= timedelta(hours=6)
    assert too_long == {
        "__typename": "ValidationErrors",
        "errors": [{"field": "overlapHours", "code": "out_of_range"}],
    }


async def test_disabling_says_who_did_it_and_a_forged_id_is_not_found(
    anonymous_client: httpx.AsyncClient,
) -> None:
    token = await admin_token()
    endpoint = (await create(anonymous_client, token))["endpoint"]

    off = await graphql(
        anonymous_client, SWITCH, {"id": endpoint["id"], "enabled": False}, token=token
    )
    forged = await graphql(
        anonymous_client, SWITCH, {"id": "not-an-id", "enabled": True}, token=token
    )

    assert off["data"]["setWebhookEndpointEnabled"]["endpoint"]["disabledReason"] == "admin"
    assert forged["data"]["setWebhookEndpointEnabled"]["__typename"] == "NotFound"
    audit = await AuditEvent.get(action="webhook.endpoint.disabled")
    assert audit.details["reason"] == "admin"
    assert audit.actor_id is not None
