from __future__ import annotations

from collections import Counter
from datetime import date

from leads.demo import DemoSeeder
from leads.enums import Stage
from leads.models import Activity, Lead, StageChange, Task, TaskKind
from tests.builders import clear_value
from tests.conftest import TABLES_CHILDREN_FIRST


async def _snapshot() -> list[tuple[object, ...]]:
    rows = await Lead.all().order_by("id")
    return [(r.id, await clear_value(r, "email"), r.stage, r.created_at) for r in rows]


async def _empty() -> None:
    from tortoise import connections

    for table in TABLES_CHILDREN_FIRST:
        await connections.get("default").execute_script(f"DELETE FROM {table}")


async def test_the_same_seed_and_day_give_the_same_data() -> None:
    await DemoSeeder(seed=3, as_of=date(2026, 6, 1)).seed(120)
    first = await _snapshot()
    await _empty()
    await DemoSeeder(seed=3, as_of=date(2026, 6, 1)).seed(120)

    assert await _snapshot() == first
    assert len(first) == 120


async def test_another_seed_gives_other_people() -> None:
    await DemoSeeder(seed=3, as_of=date(2026, 6, 1)).seed(30)
    first = {row[1] for row in await _snapshot()}
    await _empty()
    await DemoSeeder(seed=4, as_of=date(2026, 6, 1)).seed(30)
    assert first.isdisjoint({row[1] for row in await _snapshot()})


async def test_demo_history_is_consistent_and_converts_plausibly() -> None:
    as_of = date(2026, 6, 1)
    report = await DemoSeeder(seed=11, as_of=as_of).seed(1500)

    stages = Counter(await Lead.all().values_list("stage", flat=True))
    changes = await StageChange.all().order_by("lead_id", "changed_at", "id")
    last_to: dict[object, Stage] = {}
    for change in changes:
        assert change.from_stage == last_to.get(change.lead_id)
        last_to[change.lead_id] = change.to_stage
    leads = {lead.id: lead.stage for lead in await Lead.all()}

    assert last_to == leads
    assert report.activities == await Activity.all().count() > 1500 * 3
    assert stages[Stage.CUSTOMER] > 0
    assert stages[Stage.DISQUALIFIED] > 0
    reached_mql = sum(1 for c in changes if c.to_stage is Stage.MQL)
    reached_customer = sum(1 for c in changes if c.to_stage is Stage.CUSTOMER)
    assert 0.2 < reached_mql / 1500 < 0.5
    assert 0 < reached_customer / reached_mql < 0.2
    lost = sum(
        1 for c in changes if (c.from_stage, c.to_stage) == (Stage.OPPORTUNITY, Stage.DISQUALIFIED)
    )
    assert 0 < lost < reached_customer * 2  # some opportunities are lost, not every one
    reached_sql = await Lead.filter(sql_at__isnull=False).count()
    tasks = await Task.filter(kind=TaskKind.FIRST_CONTACT).all()
    assert report.tasks == len(tasks) == reached_sql > 0
    met = [t for t in tasks if t.completed_at is not None and t.completed_at <= t.due_at]
    late_or_open = [t for t in tasks if t not in met]
    assert met
    assert late_or_open


async def test_seeding_twice_adds_leads_but_not_staff_or_campaigns() -> None:
    first = await DemoSeeder(seed=1, as_of=date(2026, 6, 1)).seed(10)
    second = await DemoSeeder(seed=2, as_of=date(2026, 6, 1)).seed(10)
    from identity.models import StaffUser
    from leads.models import Campaign

    assert await Lead.all().count() == 20
    assert await Campaign.all().count() == first.campaigns == second.campaigns
    assert await StaffUser.all().count() == first.staff == second.staff
