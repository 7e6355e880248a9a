"""The console's webhook pages: admins register endpoints (the secret shown once, after a
fresh code), see deliveries with their attempts, send one again, and are told on the home
page when a receiver made an endpoint disable itself. Other roles get the 403 page; a post
without the session's CSRF token changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from compliance.events import endpoint_state
from compliance.events.emit import emit, lead_event
from compliance.events.models import WebhookDelivery, WebhookEndpoint
from compliance.events.types import EventType
from identity.roles import Role
from server.settings import Settings
from tests.builders import a_lead
from tests.conftest import app_client
from tests.identity.conftest import Clock, an_enrolled_user, frozen  # noqa: F401
from tests.server.test_console import csrf_of, sign_in

PAGE = "/console/admin/webhooks"


@pytest.fixture
async def console(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(settings) as http:
        yield http


async def test_an_admin_registers_an_endpoint_after_a_fresh_code_and_sees_the_secret_once(
    console: httpx.AsyncClient,
    frozen: Clock,  # noqa: F811
) -> None:
    admin = await an_enrolled_user(Role.ADMIN)
    await sign_in(console, admin, frozen)
    frozen.advance(minutes=11)
    page = await console.get(PAGE)
    form = {"csrf": csrf_of(page), "url": "https://hooks.example.com/in", "description": "CRM"}

    stale = await console.post(PAGE, data={**form, "type_lead.created": "1"})
    bad_url = await console.post(
        PAGE,
        data={**form, "url": "ftp://x", "step_up_code": frozen.code(admin.secret)},
    )
    frozen.advance(seconds=30)
    made = await console.post(
        PAGE, data={**form, "type_lead.created": "1", "step_up_code": frozen.code(admin.secret)}
    )

    assert stale.status_code == 400
    assert "Enter the code from your authenticator" in stale.text
    assert bad_url.status_code == 400
    assert 'id="url-error"' in bad_url.text
    assert made.status_code == 200
    secret = made.text.split('id="webhook-secret" class="secret" readonly value="')[1].split('"')[0]
    assert secret.startswith("whsec_")
    [endpoint] = await WebhookEndpoint.all()
    assert endpoint.event_types == ["lead.created"]
    listing = await console.get(PAGE)
    assert "CRM" in listing.text
    assert secret not in listing.text
    detail = await console.get(f"{PAGE}/{endpoint.id}")
    assert secret not in detail.text


async def test_deliveries_show_their_attempts_and_can_be_sent_again(
    console: httpx.AsyncClient,
    frozen: Clock,  # noqa: F811
) -> None:
    admin = await an_enrolled_user(Role.ADMIN)
    await sign_in(console, admin, frozen)
    page = await console.get(PAGE)
    await console.post(
        PAGE,
        data={"csrf": csrf_of(page), "url": "https://hooks.example.com/in", "step_up_code": ""},
    )
    endpoint = await WebhookEndpoint.get()
    lead = await a_lead()
    [event] = await emit([lead_event(EventType.LEAD_ASSIGNED, lead.id)], datetime.now(UTC))
    delivery = await WebhookDelivery.get(event_id=event.id)
    detail = await console.get(f"{PAGE}/{endpoint.id}")
    token = csrf_of(detail)
    again_url = f"{PAGE}/{endpoint.id}/deliveries/{delivery.id}/redeliver"

    pending = await console.post(again_url, data={"csrf": token})
    await WebhookDelivery.filter(id=delivery.id).update(status="failed")
    sent = await console.post(again_url, data={"csrf": token})

    assert "lead.assigned" in detail.text
    assert pending.status_code == 400
    assert "cannot be sent again" in pending.text
    assert sent.status_code == 303
    assert await WebhookDelivery.filter(event_id=event.id, status="pending").count() == 1


async def test_home_tells_admins_about_endpoints_their_receivers_disabled(
    console: httpx.AsyncClient,
    frozen: Clock,  # noqa: F811
) -> None:
    admin = await an_enrolled_user(Role.ADMIN)
    officer = await an_enrolled_user(Role.COMPLIANCE_OFFICER)
    await sign_in(console, admin, frozen)
    page = await console.get(PAGE)
    await console.post(
        PAGE,
        data={"csrf": csrf_of(page), "url": "https://hooks.example.com/in", "description": "CRM"},
    )
    endpoint = await WebhookEndpoint.get()
    await endpoint_state.disable(endpoint.id, "gone", datetime.now(UTC))

    home = await console.get("/console/")

    assert "disabled by their receivers" in home.text
    assert "answered 410 Gone" in home.text
    console.cookies.clear()
    await sign_in(console, officer, frozen)
    assert "disabled by their receivers" not in (await console.get("/console/")).text
    assert (await console.get(PAGE)).status_code == 403


async def test_a_post_without_the_csrf_token_changes_nothing(
    console: httpx.AsyncClient,
    frozen: Clock,  # noqa: F811
) -> None:
    admin = await an_enrolled_user(Role.ADMIN)
    await sign_in(console, admin, frozen)

    refused = await console.post(PAGE, data={"url": "https://hooks.example.com/in"})

    assert refused.status_code == 403
    assert not await WebhookEndpoint.exists()
