"""Webhook fixtures: a loopback receiver (every body it was sent is scanned for the personal
values of every lead in the database when the test ends), a dispatcher on a controlled
clock, and endpoints registered as the operator."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from compliance.events import endpoints
from compliance.events.addresses import networks
from compliance.events.delivery import DeliveryOptions, Dispatcher
from crypto.fields import personal_fields_of
from identity import clock
from identity.admin import OPERATOR
from identity.policy import AuthPolicy
from leads.models import Lead
from tests.builders import clear_value
from tests.webhooks.receiver import Receiver

LOOPBACK = networks("127.0.0.1/32")


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


async def personal_values() -> set[str]:
    """Every personal value of every lead now in the database, in clear."""
    found: set[str] = set()
    for lead in await Lead.all():
        for name in personal_fields_of(Lead):
            value = await clear_value(lead, name)
            if isinstance(value, str) and len(value) >= 4:
                found.add(value)
    return found


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    with Receiver() as running:
        yield running
        values = await personal_values()
    for received in running.received:
        text = received.body.decode()
        assert "@" not in text
        assert not [v for v in values if v in text], "a webhook body carried a personal value"


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """The dispatcher's clock, and the domain's (``identity.clock``) too."""
    fake = FakeClock()
    monkeypatch.setattr(clock, "now", fake)
    return fake


@pytest.fixture
async def dispatcher(fake_clock: FakeClock) -> AsyncIterator[Dispatcher]:
    running = Dispatcher(
        DeliveryOptions(allow=LOOPBACK, timeout=2.0), now=fake_clock, rng=random.Random(7)
    )
    yield running
    await running.close()


async def an_endpoint(url: str, *types: str) -> endpoints.Issued:
    return await endpoints.create(
        OPERATOR, url, list(types), "test receiver", AuthPolicy(), allow_http=True
    )
