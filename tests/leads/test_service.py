from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from audit.models import AuditEvent
from core.errors import NotFound, ValidationFailed
from identity.principal import Principal
from identity.roles import Role
from leads import service
from leads.enums import ActivityType, Source, Stage, Status
from leads.errors import DuplicateLead, InvalidTransition
from leads.models import Activity, Lead, PossibleDuplicate, StageChange
from leads.repository import LeadFilter, LeadOrder, LeadRepository
from tests.builders import a_lead, a_staff_user, a_team, principal_for

DEV = Principal(role=Role.MARKETER)


async def test_creating_a_lead_records_its_first_stage() -> None:
    lead = await service.create_lead(DEV, {"email": "ada@example.com", "source": Source.API})

    history = await StageChange.filter(lead_id=lead.id)
    assert lead.stage is Stage.LEAD
    assert [(h.from_stage, h.to_stage) for h in history] == [(None, Stage.LEAD)]


async def test_a_duplicate_email_is_reported_and_nothing_is_written() -> None:
    rep = principal_for(await a_staff_user(Role.SALES_REP))
    first = await service.create_lead(rep, {"email": "ada@example.com", "source": Source.API})

    with pytest.raises(DuplicateLead) as raised:
        await service.create_lead(rep, {"email": " ADA@example.com", "source": Source.API})

    assert raised.value.existing_id == first.id
    assert await Lead.all().count() == 1


async def test_a_duplicate_whose_email_the_caller_sees_masked_is_created_and_flagged() -> None:
    existing = await service.create_lead(DEV, {"email": "ada@example.com", "source": Source.API})

    created = await service.create_lead(DEV, {"email": "ada@example.com", "source": Source.API})

    [flag] = await PossibleDuplicate.all()
    assert (flag.lead_id, flag.existing_id, flag.kind) == (created.id, existing.id, "email")
    event = await AuditEvent.get(action="lead.duplicate.flagged")
    assert set(event.subject_ids) == {str(created.id), str(existing.id)}
    assert "ada@example.com" not in str(event.details)


async def test_a_duplicate_outside_scope_is_created_and_flagged_not_refused() -> None:
    team = await a_team()
    owner, other = (
        await a_staff_user(Role.SALES_REP, team),
        await a_staff_user(Role.SALES_REP, team),
    )
    existing = await a_lead(email="taken@example.com", owner_id=owner.id)

    created = await service.create_lead(
        principal_for(other), {"email": "taken@example.com", "source": Source.API}
    )

    assert created.id != existing.id
    assert await PossibleDuplicate.filter(lead_id=created.id, existing_id=existing.id).exists()


async def test_a_sales_rep_sees_only_their_own_leads() -> None:
    team = await a_team()
    rep, other = await a_staff_user(Role.SALES_REP, team), await a_staff_user(Role.SALES_REP, team)
    mine = await a_lead(owner_id=rep.id, team_id=team.id)
    theirs = await a_lead(owner_id=other.id, team_id=team.id)
    repository = LeadRepository(principal_for(rep))

    page = await repository.page(LeadFilter(), LeadOrder(), 10, None)

    assert [lead.id for lead in page.items] == [mine.id]
    assert await repository.get(theirs.id) is None
    assert await repository.count(LeadFilter(owner_id=other.id)) == 0


async def test_a_sales_manager_sees_their_team_only() -> None:
    team, other_team = await a_team(), await a_team()
    manager = await a_staff_user(Role.SALES_MANAGER, team)
    ours = await a_lead(team_id=team.id)
    await a_lead(team_id=other_team.id)

    page = await LeadRepository(principal_for(manager)).page(LeadFilter(), LeadOrder(), 10, None)

    assert [lead.id for lead in page.items] == [ours.id]


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ADMIN, Role.COMPLIANCE_OFFICER])
async def test_roles_without_a_lead_scope_see_no_leads(role: Role) -> None:
    user = await a_staff_user(role)
    await a_lead()
    assert await LeadRepository(principal_for(user)).count(LeadFilter()) == 0


async def test_a_rep_creating_a_lead_becomes_its_owner() -> None:
    team = await a_team()
    rep = await a_staff_user(Role.SALES_REP, team)

    lead = await service.create_lead(
        principal_for(rep), {"first_name": "Ada", "source": Source.EVENT}
    )

    assert lead.owner_id == rep.id


async def test_update_changes_only_the_given_fields() -> None:
    lead = await a_lead(company_name="Old Co", country="DE")

    await service.update_lead(DEV, lead.id, {"company_name": "New Co"})

    reloaded = await Lead.get(id=lead.id)
    assert (reloaded.company_name, reloaded.country) == ("New Co", "DE")


async def test_updating_a_lead_out_of_scope_looks_like_a_missing_lead() -> None:
    team = await a_team()
    rep, other = await a_staff_user(Role.SALES_REP, team), await a_staff_user(Role.SALES_REP, team)
    theirs = await a_lead(owner_id=other.id, company_name="Theirs")

    with pytest.raises(NotFound):
        await service.update_lead(principal_for(rep), theirs.id, {"company_name": "Mine now"})
    with pytest.raises(NotFound):
        await service.update_lead(principal_for(rep), uuid.uuid4(), {"company_name": "x"})
    assert (await Lead.get(id=theirs.id)).company_name == "Theirs"


async def test_an_unknown_owner_is_a_validation_error() -> None:
    lead = await a_lead()
    with pytest.raises(ValidationFailed) as raised:
        await service.update_lead(DEV, lead.id, {"owner_id": uuid.uuid4()})
    assert [e.field for e in raised.value.errors] == ["owner_id"]


async def test_recording_engagement_moves_last_engaged_forward_and_warms_a_cold_lead() -> None:
    lead = await a_lead(status=Status.COLD)
    when = datetime.now(UTC) - timedelta(hours=1)

    await service.record_activity(
        DEV,
        service.ActivityInput(
            lead_id=lead.id,
            type=ActivityType.PRICING_PAGE_VIEW,
            occurred_at=when,
            details={"path": "/pricing"},
        ),
    )

    reloaded = await Lead.get(id=lead.id)
    assert reloaded.last_engaged_at == when
    assert reloaded.status is Status.NURTURING


async def test_a_sales_touch_does_not_count_as_the_lead_engaging() -> None:
    lead = await a_lead()
    await service.record_activity(
        DEV, service.ActivityInput(lead_id=lead.id, type=ActivityType.CALL)
    )
    assert (await Lead.get(id=lead.id)).last_engaged_at is None


@pytest.mark.parametrize(
    "details", [{"nested": {"a": 1}}, {"bad key": "x"}, {f"k{i}": i for i in range(21)}]
)
async def test_activity_details_must_be_flat_and_small(details: dict[str, object]) -> None:
    lead = await a_lead()
    with pytest.raises(ValidationFailed):
        await service.record_activity(
            DEV,
            service.ActivityInput(lead_id=lead.id, type=ActivityType.PAGE_VIEW, details=details),
        )
    assert await Activity.filter(lead_id=lead.id).count() == 0


async def test_an_activity_in_the_future_is_refused() -> None:
    lead = await a_lead()
    with pytest.raises(ValidationFailed) as raised:
        await service.record_activity(
            DEV,
            service.ActivityInput(
                lead_id=lead.id,
                type=ActivityType.PAGE_VIEW,
                occurred_at=datetime.now(UTC) + timedelta(days=1),
            ),
        )
    assert raised.value.errors[0].field == "occurred_at"


async def test_changing_stage_writes_history_and_the_lead_together() -> None:
    lead = await a_lead()

    change, _ = await service.change_stage(DEV, lead.id, Stage.SQL, None)

    reloaded = await Lead.get(id=lead.id)
    assert (change.from_stage, change.to_stage) == (Stage.LEAD, Stage.SQL)
    assert reloaded.stage is Stage.SQL
    assert reloaded.stage_entered_at == change.changed_at


async def test_a_refused_stage_change_changes_nothing() -> None:
    lead = await a_lead(stage=Stage.SQL)

    with pytest.raises(InvalidTransition):
        await service.change_stage(DEV, lead.id, Stage.MQL, None)

    assert (await Lead.get(id=lead.id)).stage is Stage.SQL
    assert await StageChange.filter(lead_id=lead.id).count() == 1


async def test_a_failure_inside_the_transaction_rolls_back_the_stage_history(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lead = await a_lead()

    async def failing_save(self: Lead, *args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(Lead, "save", failing_save)
    with pytest.raises(RuntimeError):
        await service.change_stage(DEV, lead.id, Stage.MQL, None)
    monkeypatch.undo()

    assert await StageChange.filter(lead_id=lead.id).count() == 1
    assert (await Lead.get(id=lead.id)).stage is Stage.LEAD
