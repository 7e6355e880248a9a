"""Domain events: written in the transaction that causes them, once, numbered in their
stream, with ids and non-personal fields only, and queued for the endpoints that want them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from tortoise.transactions import in_transaction

from audit.events import Actor
from compliance.consent.evidence import ConsentSource, Evidence
from compliance.consent.ledger import ConsentChange, append
from compliance.dsr.models import DataSubjectRequest
from compliance.events.emit import emit, lead_event
from compliance.events.models import DomainEvent, WebhookDelivery
from compliance.events.types import EventDataError, EventType, check_data
from identity.principal import Principal
from identity.roles import Role
from leads import service
from leads.assignment import assign_round_robin
from leads.breaches import announce_breaches
from leads.enums import Source, Stage
from leads.models import Task, TaskKind
from leads.scoring.definition import DEFAULT_DEFINITION, parse_definition
from leads.scoring.rescoring import score_batch
from rights.events import announce_due_soon
from tests.builders import a_lead, a_staff_user, a_team
from tests.rights.helpers import a_request, an_officer
from tests.webhooks.conftest import an_endpoint

MARKETER = Principal(role=Role.MARKETER)


async def events_of(lead_id: uuid.UUID) -> list[DomainEvent]:
    return await DomainEvent.filter(stream=f"lead:{lead_id}").order_by("sequence")


async def test_a_new_lead_is_announced_in_its_own_stream_with_ids_only() -> None:
    lead = await service.create_lead(
        MARKETER, {"email": "ada@example.com", "first_name": "Ada", "source": Source.API}
    )

    [created] = [e for e in await events_of(lead.id) if e.type == "lead.created"]
    assert created.sequence == 1
    assert created.lead_id == lead.id
    assert created.data["leadId"] == str(lead.id)
    assert (created.data["stage"], created.data["source"]) == ("lead", "api")
    assert "Ada" not in str(created.data)
    assert "ada@" not in str(created.data)


async def test_a_change_that_rolls_back_leaves_no_event_and_no_delivery() -> None:
    await an_endpoint("https://hooks.example.com/in")
    lead = await a_lead()

    async def change_then_fail() -> None:
        async with in_transaction("default"):
            await service.change_stage(MARKETER, lead.id, Stage.MQL, None)
            raise RuntimeError("the request failed after the change")

    with pytest.raises(RuntimeError):
        await change_then_fail()

    assert await events_of(lead.id) == []
    assert await WebhookDelivery.all().count() == 0


async def test_each_stream_numbers_its_events_in_order_and_endpoints_get_what_they_want() -> None:
    every = await an_endpoint("https://hooks.example.com/all")
    stages = await an_endpoint("https://hooks.example.com/stages", "lead.stage_changed")
    lead = await a_lead()
    other = await a_lead()

    await service.change_stage(MARKETER, lead.id, Stage.MQL, None)
    await service.change_stage(MARKETER, other.id, Stage.MQL, None)
    await service.change_stage(MARKETER, lead.id, Stage.SQL, None)

    events = [e for e in await events_of(lead.id) if e.type == "lead.stage_changed"]
    assert [e.sequence for e in await events_of(lead.id)] == list(
        range(1, len(await events_of(lead.id)) + 1)
    )
    assert [(e.data["fromStage"], e.data["toStage"], e.data["by"]) for e in events] == [
        ("lead", "mql", "staff"),
        ("mql", "sql", "staff"),
    ]
    assert (await events_of(other.id))[0].sequence == 1
    all_events = await DomainEvent.all().count()
    assert await WebhookDelivery.filter(endpoint_id=every.endpoint.id).count() == all_events
    assert await WebhookDelivery.filter(endpoint_id=stages.endpoint.id).count() == 3


async def test_concurrent_emits_in_one_stream_never_share_a_number() -> None:
    lead_id = uuid.uuid4()
    now = datetime.now(UTC)

    async def one() -> None:
        async with in_transaction("default"):
            await emit([lead_event(EventType.LEAD_ASSIGNED, lead_id)] * 3, now)

    for _ in range(4):
        await one()

    numbers = [e.sequence for e in await events_of(lead_id)]
    assert numbers == list(range(1, 13))


async def test_a_score_that_crosses_a_threshold_announces_the_crossing_and_the_move() -> None:
    definition = parse_definition({**DEFAULT_DEFINITION, "mql_threshold": 1, "sql_threshold": 99})
    lead = await a_lead(seniority="c_level", company_size="201-1000", country="DE")
    now = datetime.now(UTC)

    async with in_transaction("default"):
        await score_batch(definition, 1, now, "test", lead_ids=[lead.id])

    found = {(e.type, e.data.get("threshold"), e.data.get("by")) for e in await events_of(lead.id)}
    assert ("lead.score_threshold_crossed", "MQL", None) in found
    assert ("lead.stage_changed", None, "score") in found
    assert ("lead.score_threshold_crossed", "SQL", None) not in found

    async with in_transaction("default"):  # scored again, nothing crosses: nothing new
        before = len(await events_of(lead.id))
        await score_batch(definition, 1, now, "test", lead_ids=[lead.id])
    assert len(await events_of(lead.id)) == before


async def test_round_robin_assignment_announces_the_owner() -> None:
    team = await a_team()
    rep = await a_staff_user(Role.SALES_REP, team)
    lead = await a_lead(team_id=team.id)

    async with in_transaction("default"):
        await assign_round_robin([lead.id], team.id, Actor.operator(), datetime.now(UTC))

    [assigned] = [e for e in await events_of(lead.id) if e.type == "lead.assigned"]
    assert assigned.data["ownerId"] == str(rep.id)
    assert assigned.data["teamId"] == str(team.id)


async def test_only_the_persons_own_consent_answers_are_announced() -> None:
    lead = await a_lead()
    evidence = Evidence(source=ConsentSource.STAFF)

    async with in_transaction("default"):
        await append(
            lead.id,
            [ConsentChange("email_marketing", granted=True)],
            evidence,
            Actor.operator(),
            key=None,
        )
        await append(
            lead.id,
            [ConsentChange("email_marketing", granted=False)],
            evidence,
            Actor.operator(),
            key=None,
        )

    changes = [e.data for e in await events_of(lead.id) if e.type == "consent.changed"]
    assert [(c["purpose"], c["status"]) for c in changes] == [
        ("email_marketing", "granted"),
        ("email_marketing", "withdrawn"),
    ]


async def test_a_breached_task_is_announced_once_and_old_breaches_not_at_all() -> None:
    lead = await a_lead()
    now = datetime.now(UTC)
    late = await Task.create(
        lead_id=lead.id, kind=TaskKind.FIRST_CONTACT, due_at=now - timedelta(minutes=5),
        created_at=now - timedelta(hours=1),
    )  # fmt: skip
    await Task.create(
        lead_id=lead.id, kind=TaskKind.FOLLOW_UP, step=1, due_at=now - timedelta(days=3),
        created_at=now - timedelta(days=4),
    )  # fmt: skip
    await Task.create(
        lead_id=lead.id, kind=TaskKind.FOLLOW_UP, step=2, due_at=now + timedelta(hours=1),
        created_at=now,
    )  # fmt: skip

    assert await announce_breaches(now) == 1
    assert await announce_breaches(now + timedelta(minutes=1)) == 0

    [breach] = [e for e in await events_of(lead.id) if e.type == "task.sla_breached"]
    assert breach.data["taskId"] == str(late.id)


async def test_a_request_coming_due_is_announced_once() -> None:
    _, officer = await an_officer()
    request = await a_request(officer)
    soon = request.due_at - timedelta(days=1)

    assert await announce_due_soon(request.due_at - timedelta(days=20)) == 0
    assert await announce_due_soon(soon) == 1
    assert await announce_due_soon(soon + timedelta(hours=1)) == 0

    [event] = await DomainEvent.filter(stream=f"request:{request.id}")
    assert event.type == "dsr.due_soon"
    assert event.data["kind"] == "erasure"
    await request.refresh_from_db()
    assert request.due_soon_announced_at == soon
    assert isinstance(request, DataSubjectRequest)


@pytest.mark.parametrize(
    ("data", "refused"),
    [
        ({"email": "ada@example.com"}, "'email'"),
        ({"leadId": "ada@example.com"}, "'leadId'"),
        ({"leadId": "Ada Lovelace"}, "'leadId'"),
        ({"leadId": {"nested": 1}}, "'leadId'"),
    ],
)
def test_an_event_may_carry_only_its_listed_plain_fields(
    data: dict[str, object], refused: str
) -> None:
    with pytest.raises(EventDataError) as raised:
        check_data(EventType.LEAD_CREATED, data)

    assert refused in str(raised.value)
    assert "Ada" not in str(raised.value)
    assert "ada@" not in str(raised.value)
