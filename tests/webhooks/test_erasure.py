"""An erasure purges what was still to be sent about the person, counts it in the
certificate, and announces the erasure itself (ids only)."""

from __future__ import annotations

from datetime import timedelta

from audit.events import Actor
from compliance.events.emit import emit, lead_event
from compliance.events.models import DomainEvent, WebhookDelivery
from compliance.events.types import EventType
from rights import erasure
from tests.builders import a_full_lead, a_lead
from tests.rights.helpers import NOW, an_approved_erasure, an_officer
from tests.webhooks.conftest import an_endpoint


async def test_after_an_erasure_nothing_about_the_person_is_left_to_send() -> None:
    await an_endpoint("https://hooks.example.com/in")
    user, officer = await an_officer()
    lead = await a_full_lead(None, None, "ada@example.com")
    other = await a_lead()
    await emit(
        [
            lead_event(EventType.LEAD_ASSIGNED, lead.id),
            lead_event(EventType.CONSENT_CHANGED, lead.id, purpose="email_marketing"),
            lead_event(EventType.LEAD_ASSIGNED, other.id),
        ],
        NOW,
    )
    delivered = await DomainEvent.get(stream=f"lead:{lead.id}", type="consent.changed")
    await WebhookDelivery.filter(event_id=delivered.id).update(status="delivered")
    request = await an_approved_erasure(officer, user)
    moments = iter(NOW + timedelta(minutes=5, seconds=i) for i in range(1000))

    done = await erasure.execute(request.id, now=lambda: next(moments), actor=Actor.operator())

    assert done is not None
    about_lead = WebhookDelivery.filter(event__lead_id=lead.id)
    pending = await about_lead.filter(status="pending").select_related("event")
    assert [d.event.type for d in pending] == ["lead.erased"]
    assert pending[0].event.data == {"leadId": str(lead.id), "requestId": str(request.id)}
    assert await about_lead.filter(status="purged").count() == 1
    assert await about_lead.filter(status="delivered").count() == 1
    assert await WebhookDelivery.filter(event__lead_id=other.id, status="pending").count() == 1
    [purged] = [t for t in done.certificate["tables"] if t["table"] == "webhook_delivery"]
    assert (purged["action"], purged["rows"]) == ("purged", 1)
