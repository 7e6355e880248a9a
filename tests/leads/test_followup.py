"""Follow-up: the welcome message, first-contact SLA tasks, speed-to-lead, the cadence, and
SLA breaches."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from compliance.consent.ledger import ConsentChange
from compliance.consent.purposes import SALES_CONTACT
from compliance.models import OutboxMessage
from compliance.outbox import open_message
from identity.principal import Principal
from identity.roles import Role
from leads import service, tasks
from leads.enums import ActivityType, CompanySize, Seniority, Source, Stage
from leads.followup import (
    DEFAULT_CADENCE_HOURS,
    BecameSql,
    FollowUpConfig,
    became_sql,
    followup_config,
    install_followup_config,
    is_breached,
    parse_sla_by_source,
    send_welcome,
)
from leads.models import Lead, Task, TaskKind
from tests.builders import a_lead, a_staff_user, a_team, ledger_entries, principal_for

MARKETER = Principal(role=Role.MARKETER)
HOUR = timedelta(hours=1)
YESTERDAY = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)


@pytest.fixture
def event_sla() -> Iterator[None]:
    before = followup_config()
    install_followup_config(FollowUpConfig(sla_by_source={Source.EVENT.value: timedelta(days=1)}))
    yield
    install_followup_config(before)


async def qualified_lead(**overrides: object) -> Lead:
    """A lead worth 90 under the default model once it requests a demo: it becomes an SQL."""
    return await a_lead(
        seniority=Seniority.VP, company_size=CompanySize.SIZE_51_200, country="DE", **overrides
    )


async def request_demo(lead: Lead) -> Lead:
    await service.record_activity(
        MARKETER, service.ActivityInput(lead_id=lead.id, type=ActivityType.DEMO_REQUEST)
    )
    return await Lead.get(id=lead.id)


async def touch(lead: Lead, at: datetime, kind: ActivityType = ActivityType.CALL) -> Lead:
    await service.record_activity(
        MARKETER, service.ActivityInput(lead_id=lead.id, type=kind, occurred_at=at)
    )
    return await Lead.get(id=lead.id)


async def test_a_new_lead_is_welcomed_with_a_next_step() -> None:
    lead = await service.create_lead(
        MARKETER, {"email": "new@example.com", "source": Source.WEB_FORM}
    )
    row = await OutboxMessage.get(lead_id=lead.id, template="welcome")
    message = await open_message(row)
    assert message is not None
    assert message.recipient == "new@example.com"
    assert "Next step: Reply to this message to book a 20-minute call" in message.body


async def test_no_welcome_without_an_email_or_where_sales_contact_is_not_allowed() -> None:
    objected = await a_lead(email="objected@example.com")
    await ledger_entries(objected.id, [ConsentChange(SALES_CONTACT, granted=False)])
    no_basis = await a_lead(bases=False, email="nobasis@example.com")
    allowed = await a_lead(email="fine@example.com")
    now = datetime.now(UTC)
    key = bytes(32)  # not opened here: only counted

    assert await send_welcome(objected.id, key, "objected@example.com", now) is False
    assert await send_welcome(no_basis.id, key, "nobasis@example.com", now) is False
    assert await send_welcome(allowed.id, key, None, now) is False
    assert await OutboxMessage.filter(template="welcome").count() == 0
    phone_only = await service.create_lead(
        MARKETER, {"phone": "+442079460958", "first_name": "Pat", "source": Source.API}
    )
    assert not await OutboxMessage.filter(lead_id=phone_only.id).exists()


async def test_becoming_an_sql_opens_a_first_contact_task_due_within_an_hour() -> None:
    rep = await a_staff_user(Role.SALES_REP)
    lead = await request_demo(await qualified_lead(owner_id=rep.id))

    assert lead.stage is Stage.SQL
    assert lead.sql_at is not None
    task = await Task.get(lead_id=lead.id)
    assert (task.kind, task.step, task.owner_id) == (TaskKind.FIRST_CONTACT, 0, rep.id)
    assert task.due_at == lead.sql_at + HOUR
    assert task.completed_at is None


@pytest.mark.usefixtures("event_sla")
async def test_the_first_contact_sla_is_configurable_per_source() -> None:
    event = await request_demo(await qualified_lead(source=Source.EVENT))
    web = await request_demo(await qualified_lead(source=Source.WEB_FORM))
    assert event.sql_at is not None
    assert web.sql_at is not None
    assert (await Task.get(lead_id=event.id)).due_at == event.sql_at + timedelta(days=1)
    assert (await Task.get(lead_id=web.id)).due_at == web.sql_at + HOUR


async def test_a_manual_move_to_sql_counts_once() -> None:
    manager = await a_staff_user(Role.SALES_MANAGER, await a_team())
    lead = await a_lead(stage=Stage.MQL, team_id=manager.team_id)
    boss = principal_for(manager)

    await service.change_stage(boss, lead.id, Stage.SQL, None)
    first = (await Lead.get(id=lead.id)).sql_at
    await service.change_stage(boss, lead.id, Stage.MQL, "not ready after all")
    await service.change_stage(boss, lead.id, Stage.SQL, None)

    assert (await Lead.get(id=lead.id)).sql_at == first
    assert await Task.filter(lead_id=lead.id, kind=TaskKind.FIRST_CONTACT).count() == 1


async def sql_yesterday() -> Lead:
    """An SQL since yesterday, with its first-contact task."""
    lead = await a_lead(stage=Stage.SQL)
    await became_sql([BecameSql(lead.id, lead.source.value, None)], YESTERDAY)
    return await Lead.get(id=lead.id)


async def test_the_first_touch_measures_speed_to_lead_and_lays_out_the_cadence() -> None:
    lead = await sql_yesterday()
    assert lead.sql_at == YESTERDAY
    engaged = await touch(lead, lead.sql_at + timedelta(minutes=1), ActivityType.PAGE_VIEW)
    assert engaged.first_touch_at is None  # the lead engaging is not a human touch
    touched_at = lead.sql_at + timedelta(minutes=42)

    touched = await touch(lead, touched_at)

    assert touched.first_touch_at == touched_at
    first = await Task.get(lead_id=lead.id, kind=TaskKind.FIRST_CONTACT)
    assert first.completed_at == touched_at
    assert not is_breached(first, touched_at + timedelta(days=3))
    cadence = await Task.filter(lead_id=lead.id, kind=TaskKind.FOLLOW_UP).order_by("step")
    assert [t.step for t in cadence] == [1, 2, 3, 4, 5]
    assert [t.due_at - touched_at for t in cadence] == [
        timedelta(hours=h) for h in DEFAULT_CADENCE_HOURS
    ]
    assert cadence[-1].due_at - touched_at == timedelta(days=14)


async def test_each_later_touch_completes_the_next_cadence_step() -> None:
    lead = await sql_yesterday()
    start = YESTERDAY + timedelta(minutes=5)
    await touch(lead, start)
    await touch(lead, start + timedelta(hours=3), ActivityType.EMAIL_SENT)
    await touch(lead, start + timedelta(hours=4), ActivityType.MEETING)

    cadence = await Task.filter(lead_id=lead.id, kind=TaskKind.FOLLOW_UP).order_by("step")
    assert [t.completed_at is not None for t in cadence] == [True, True, False, False, False]
    assert (await Lead.get(id=lead.id)).first_touch_at == start


async def test_breaches_are_late_completions_and_overdue_open_tasks() -> None:
    manager = await a_staff_user(Role.SALES_MANAGER, await a_team())
    now = datetime.now(UTC)
    leads = [await a_lead(team_id=manager.team_id) for _ in range(3)]
    late, overdue, on_time = [
        await Task.create(
            lead_id=lead.id,
            kind=TaskKind.FIRST_CONTACT,
            due_at=now - 2 * HOUR,
            completed_at=done,
            created_at=now - 3 * HOUR,
        )
        for lead, done in zip(
            leads, (now - HOUR, None, now - 150 * timedelta(minutes=1)), strict=True
        )
    ]
    other_team = await a_lead()
    await Task.create(
        lead_id=other_team.id, kind=TaskKind.FIRST_CONTACT, due_at=now - HOUR, created_at=now
    )

    found = await tasks.list_tasks(principal_for(manager), tasks.TaskFilter(breached=True), now)
    kept = await tasks.list_tasks(principal_for(manager), tasks.TaskFilter(breached=False), now)

    assert {t.id for t in found} == {late.id, overdue.id}
    assert {t.id for t in kept} == {on_time.id}


def test_sla_by_source_is_parsed_and_checked() -> None:
    assert parse_sla_by_source("web_form=30, event=1440") == {
        "web_form": timedelta(minutes=30),
        "event": timedelta(days=1),
    }
    assert parse_sla_by_source("") == {}
    with pytest.raises(ValueError, match="unknown source 'fax'"):
        parse_sla_by_source("fax=10")
    with pytest.raises(ValueError, match="web_form: minutes"):
        parse_sla_by_source("web_form=0")
