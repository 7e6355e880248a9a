"""Delivering webhooks to a loopback receiver: signed as Standard Webhooks says (checked with
the reference library), retried on the stated schedule under a controlled clock, Retry-After
honoured, 410 and endless failure disabling the endpoint, every attempt logged."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import timedelta
from email.utils import format_datetime

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from audit.models import AuditEvent
from compliance.events import endpoints, log
from compliance.events.delivery import DeliveryOptions, Dispatcher
from compliance.events.emit import emit, lead_event
from compliance.events.models import DomainEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from compliance.events.schedule import ATTEMPTS, DELAYS, DISABLE_AFTER, JITTER
from compliance.events.signing import new_secret
from compliance.events.types import EventType
from identity.admin import OPERATOR
from identity.policy import AuthPolicy
from identity.principal import Principal
from identity.roles import Role
from leads import service
from leads.enums import Source
from tests.builders import a_lead
from tests.webhooks.conftest import LOOPBACK, FakeClock, an_endpoint
from tests.webhooks.receiver import RESPONSE_BODY, Answer, Receiver


async def an_event(
    clock: FakeClock, event_type: EventType = EventType.LEAD_ASSIGNED
) -> DomainEvent:
    lead = await a_lead()
    [event] = await emit([lead_event(event_type, lead.id, ownerId=None)], clock.now)
    return event


async def delivery_of(event: DomainEvent) -> WebhookDelivery:
    return await WebhookDelivery.get(event_id=event.id)


def verify(secret: str, received: object) -> object:
    return Webhook(secret).verify(received.body, received.headers)  # type: ignore[attr-defined]


async def test_a_delivery_is_signed_as_standard_webhooks_says_and_logged(
    receiver: Receiver, dispatcher: Dispatcher, fake_clock: FakeClock
) -> None:
    issued = await an_endpoint(receiver.url)
    lead = await service.create_lead(
        Principal(role=Role.MARKETER),
        {"email": "ada@example.com", "first_name": "Ada", "source": Source.API},
    )
    fake_clock.advance(seconds=5)  # the service stamped its events with the real clock

    report = await dispatcher.deliver_due()

    assert report.delivered >= 1
    created = next(r for r in receiver.received if b"lead.created" in r.body)
    payload = verify(issued.secret, created)
    assert payload["type"] == "lead.created"  # type: ignore[index]
    assert payload["data"]["leadId"] == str(lead.id)  # type: ignore[index]
    event = await DomainEvent.get(type="lead.created", lead_id=lead.id)
    assert created.headers["webhook-id"] == str(event.id)
    assert json.loads(created.body)["data"]["sequence"] == event.sequence
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(created.body, created.headers)
    tampered = created.body.replace(b"lead.created", b"lead.erased")
    with pytest.raises(WebhookVerificationError):
        Webhook(issued.secret).verify(tampered, created.headers)
    delivery = await delivery_of(event)
    assert (delivery.status, delivery.attempts) == ("delivered", 1)
    [attempt] = await WebhookAttempt.filter(delivery_id=delivery.id)
    assert attempt.status_code == 204
    assert attempt.error is None
    assert attempt.latency_ms >= 0
    assert RESPONSE_BODY.decode() not in str(attempt.__dict__)


async def test_during_a_rotation_old_and_new_secrets_both_sign_until_the_overlap_ends(
    receiver: Receiver, dispatcher: Dispatcher, fake_clock: FakeClock
) -> None:
    old = await an_endpoint(receiver.url)
    new = await endpoints.rotate_secret(
        OPERATOR, old.endpoint.id, AuthPolicy(), timedelta(minutes=2)
    )
    await an_event(fake_clock)
    await dispatcher.deliver_due()
    fake_clock.advance(minutes=3)  # the reference library accepts timestamps within 5 min
    await an_event(fake_clock)
    await dispatcher.deliver_due()

    during, after = receiver.received
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    verify(old.secret, during)
    verify(new.secret, during)
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    verify(new.secret, after)
    with pytest.raises(WebhookVerificationError):
        verify(old.secret, after)


async def test_failures_are_retried_on_the_stated_schedule_then_given_up(
    receiver: Receiver, dispatcher: Dispatcher, fake_clock: FakeClock
) -> None:
    receiver.default = Answer(status=500)
    await an_endpoint(receiver.url)
    event = await an_event(fake_clock)
    waits: list[timedelta] = []

    for _ in range(ATTEMPTS):
        report = await dispatcher.deliver_due()
        assert report.total == 1
        delivery = await delivery_of(event)
        if delivery.status != "pending":
            break
        waits.append(delivery.next_attempt_at - fake_clock.now)
        fake_clock.now = delivery.next_attempt_at

    assert delivery.status == "failed"
    assert delivery.attempts == ATTEMPTS == len(receiver.received)
    for wait, delay in zip(waits, DELAYS, strict=True):
        assert delay * (1 - JITTER) <= wait <= delay * (1 + JITTER)
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
    assert (await WebhookEndpoint.get(id=delivery.endpoint_id)).enabled
    assert [a.status_code for a in await WebhookAttempt.all()] == [500] * ATTEMPTS


async def test_nothing_is_sent_before_it_is_due(
    receiver: Receiver, dispatcher: Dispatcher, fake_clock: FakeClock
) -> None:
    receiver.answers.append(Answer(status=500))
    await an_endpoint(receiver.url)
    await an_event(fake_clock)
    await dispatcher.deliver_due()

    fake_clock.advance(seconds=3)  # the first retry waits at least 4 s
    assert (await dispatcher.deliver_due()).total == 0
    assert len(receiver.received) == 1


@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_is_honoured_as_seconds_or_a_date(
    receiver: Receiver, dispatcher: Dispatcher, fake_clock: FakeClock, status: int
) -> None:
    receiver.answers.append(Answer(status=status, headers={"Retry-After": "7200"}))
    later = format_datetime(fake_clock.now + timedelta(hours=5), usegmt=True)
    receiver.answers.append(Answer(status=status, headers={"Retry-After": later}))
    await an_endpoint(receiver.url)
    event = await an_event(fake_clock)

    await dispatcher.deliver_due()
    first = (await delivery_of(event)).next_attempt_at - fake_clock.now
    fake_clock.now += first
    await dispatcher.deliver_due()
    second = (await delivery_of(event)).next_attempt_at

    assert first >= timedelta(hours=2)
    assert second >= fake_clock.now - first + timedelta(hours=5) - timedelta(seconds=1)


async def test_a_410_disables_the_endpoint_and_cancels_what_it_had_pending(
    receiver: Receiver, dispatcher: Dispatcher, fake_clock: FakeClock
) -> None:
    receiver.default = Answer(status=410)
    issued = await an_endpoint(receiver.url)
    first = await an_event(fake_clock)
    await dispatcher.deliver_due()
    fake_clock.advance(seconds=1)

    endpoint = await WebhookEndpoint.get(id=issued.endpoint.id)
    assert (endpoint.enabled, endpoint.disabled_reason) == (False, "gone")
    assert (await delivery_of(first)).status == "failed"
    assert await an_event(fake_clock)  # a new event is not queued for a disabled endpoint
    assert await WebhookDelivery.filter(endpoint_id=endpoint.id).count() == 1
    assert [e.id for e in await endpoints.needing_attention()] == [endpoint.id]
    audit = await AuditEvent.get(action="webhook.endpoint.disabled")
    assert audit.details["reason"] == "gone"


async def test_an_endpoint_failing_every_attempt_for_days_is_disabled(
    receiver: Receiver, dispatcher: Dispatcher, fake_clock: FakeClock
) -> None:
    receiver.default = Answer(status=502)
    issued = await an_endpoint(receiver.url)
    await an_event(fake_clock)
    await dispatcher.deliver_due()
    started = fake_clock.now

    while fake_clock.now - started < DISABLE_AFTER:
        fake_clock.advance(hours=12)
        await an_event(fake_clock)
        await dispatcher.deliver_due()
        if not (await WebhookEndpoint.get(id=issued.endpoint.id)).enabled:
            break

    endpoint = await WebhookEndpoint.get(id=issued.endpoint.id)
    assert (endpoint.enabled, endpoint.disabled_reason) == (False, "failing")
    assert fake_clock.now - started >= DISABLE_AFTER
    assert not await WebhookDelivery.filter(endpoint_id=endpoint.id, status="pending").exists()


async def test_a_success_ends_the_failing_streak(
    receiver: Receiver, dispatcher: Dispatcher, fake_clock: FakeClock
) -> None:
    receiver.answers.append(Answer(status=500))
    issued = await an_endpoint(receiver.url)
    await an_event(fake_clock)
    await dispatcher.deliver_due()
    assert (await WebhookEndpoint.get(id=issued.endpoint.id)).failing_since is not None

    fake_clock.advance(minutes=1)
    await dispatcher.deliver_due()

    assert (await WebhookEndpoint.get(id=issued.endpoint.id)).failing_since is None


async def test_a_receiver_slower_than_the_limit_counts_as_a_timeout(
    receiver: Receiver, fake_clock: FakeClock
) -> None:
    receiver.answers.append(Answer(status=204, delay=1.5))
    impatient = Dispatcher(DeliveryOptions(allow=LOOPBACK, timeout=0.3), now=fake_clock)
    await an_endpoint(receiver.url)
    event = await an_event(fake_clock)
    try:
        await impatient.deliver_due()
    finally:
        await impatient.close()

    [attempt] = await WebhookAttempt.all()
    assert (attempt.status_code, attempt.error) == (None, "timeout")
    assert 250 <= attempt.latency_ms < 1500
    assert (await delivery_of(event)).status == "pending"


async def test_redelivery_sends_the_same_event_again(
    receiver: Receiver, dispatcher: Dispatcher, fake_clock: FakeClock
) -> None:
    await an_endpoint(receiver.url)
    event = await an_event(fake_clock)
    await dispatcher.deliver_due()

    again = await log.redeliver(OPERATOR, (await delivery_of(event)).id)
    await dispatcher.deliver_due()

    assert again.status == "pending"
    assert [r.headers["webhook-id"] for r in receiver.received] == [str(event.id)] * 2
    assert await WebhookDelivery.filter(event_id=event.id, status="delivered").count() == 2


async def test_two_dispatchers_never_send_one_delivery_twice(
    receiver: Receiver, fake_clock: FakeClock
) -> None:
    await an_endpoint(receiver.url)
    for _ in range(30):
        await an_event(fake_clock)
    first, second = (
        Dispatcher(DeliveryOptions(allow=LOOPBACK, batch=10), now=fake_clock, rng=random.Random(n))
        for n in range(2)
    )
    try:
        for _ in range(4):
            await asyncio.gather(first.deliver_due(), second.deliver_due())
    finally:
        await first.close()
        await second.close()

    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert len(ids) == len(set(ids)) == 30
