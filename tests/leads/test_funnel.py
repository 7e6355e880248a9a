"""Funnel analytics against values worked out by hand on a five-lead fixture.

A  lead d0 → MQL d2 → SQL d5 → opportunity d10 → customer d20 (won 1000)  web_form, C1, Jan
B  lead d0 → MQL d4 → SQL d6 → opportunity d16 → disqualified d30        web_form, C1, Jan
C  lead d0 → MQL d1                                                      event, Feb
D  lead d0                                                               event, Feb
E  lead d0 → MQL d3 → SQL d4 → opportunity d8 (deal 500, open)           referral, C2, Feb
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from identity.principal import Principal
from identity.roles import Role
from leads.enums import Source, Stage
from leads.funnel import FunnelFilter, FunnelReport, funnel_report
from leads.models import Campaign, Lead, StageChange, Task, TaskKind
from tests.builders import a_campaign, a_lead, a_staff_user, a_team, principal_for
from tests.querycount import count_queries

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
FEB = T0 + timedelta(days=40)
NOW = datetime(2026, 6, 1, tzinfo=UTC)
DAY = timedelta(days=1)
MARKETER = Principal(role=Role.MARKETER)


async def journey(created: datetime, path: list[tuple[Stage, int]], **values: Any) -> Lead:
    """A lead created at ``created`` in stage lead, then moved along ``path`` (stage, day)."""
    final = path[-1][0] if path else Stage.LEAD
    lead = await a_lead(created_at=created, stage=Stage.LEAD, **values)
    await Lead.filter(id=lead.id).update(stage=final)
    previous = Stage.LEAD
    for stage, day in path:
        await StageChange.create(
            lead_id=lead.id, from_stage=previous, to_stage=stage, changed_at=created + day * DAY
        )
        previous = stage
    return lead


async def first_contact(lead: Lead, sql_at: datetime, done_after: timedelta | None) -> None:
    await Lead.filter(id=lead.id).update(
        sql_at=sql_at, first_touch_at=sql_at + done_after if done_after else None
    )
    await Task.create(
        lead_id=lead.id,
        kind=TaskKind.FIRST_CONTACT,
        due_at=sql_at + timedelta(hours=1),
        completed_at=sql_at + done_after if done_after else None,
        created_at=sql_at,
    )


@pytest.fixture
async def five() -> dict[str, Lead]:
    c1 = await a_campaign(name="C1", cost=Decimal(1000))
    c2 = await a_campaign(name="C2", cost=Decimal(300))
    web = {"source": Source.WEB_FORM, "campaign_id": c1.id}
    a = await journey(
        T0,
        [(Stage.MQL, 2), (Stage.SQL, 5), (Stage.OPPORTUNITY, 10), (Stage.CUSTOMER, 20)],
        won_amount=Decimal(1000),
        deal_value=Decimal(900),
        **web,
    )
    b = await journey(
        T0,
        [(Stage.MQL, 4), (Stage.SQL, 6), (Stage.OPPORTUNITY, 16), (Stage.DISQUALIFIED, 30)],
        **web,
    )
    c = await journey(FEB, [(Stage.MQL, 1)], source=Source.EVENT)
    d = await journey(FEB, [], source=Source.EVENT)
    e = await journey(
        FEB,
        [(Stage.MQL, 3), (Stage.SQL, 4), (Stage.OPPORTUNITY, 8)],
        source=Source.REFERRAL,
        campaign_id=c2.id,
        deal_value=Decimal(500),
    )
    await first_contact(a, T0 + 5 * DAY, timedelta(minutes=30))
    await first_contact(e, FEB + 4 * DAY, timedelta(minutes=90))
    await first_contact(b, T0 + 6 * DAY, None)
    return {"a": a, "b": b, "c": c, "d": d, "e": e}


def stages(report: FunnelReport) -> dict[str, int | None]:
    return {s.stage.value: s.leads for s in report.stages}


@pytest.mark.usefixtures("five")
async def test_counts_and_conversions() -> None:
    report = await funnel_report(MARKETER, FunnelFilter(), NOW)

    assert report.total_leads == 5
    assert report.suppression_threshold is None
    assert stages(report) == {
        "subscriber": 0,
        "lead": 1,
        "mql": 1,
        "sql": 0,
        "opportunity": 1,
        "customer": 1,
        "disqualified": 1,
    }
    assert [(c.from_stage.value, c.reached, c.converted, c.rate) for c in report.conversions] == [
        ("lead", 5, 4, 0.8),
        ("mql", 4, 3, 0.75),
        ("sql", 3, 3, 1.0),
        ("opportunity", 3, 1, pytest.approx(1 / 3)),
    ]


@pytest.mark.usefixtures("five")
async def test_days_in_stage_sales_cycle_and_speed_to_lead() -> None:
    report = await funnel_report(MARKETER, FunnelFilter(), NOW)

    days = {d.metric: (d.count, d.mean_days, d.median_days) for d in report.time_in_stage}
    assert days["subscriber"] == (0, None, None)
    assert days["lead"] == (4, 2.5, 2.5)  # 2, 4, 1, 3
    assert days["mql"] == (3, 2.0, 2.0)  # 3, 2, 1
    assert days["sql"] == (3, pytest.approx(19 / 3, abs=1e-3), 5.0)  # 5, 10, 4
    assert days["opportunity"] == (2, 12.0, 12.0)  # 10, 14
    assert days["customer"] == (0, None, None)
    assert (report.sales_cycle.count, report.sales_cycle.mean_days) == (1, 20.0)
    assert (report.speed_to_lead.count, report.speed_to_lead.mean_days) == (2, 60.0)
    assert report.speed_to_lead.median_days == 60.0  # minutes: 30 and 90


@pytest.mark.usefixtures("five")
async def test_lead_velocity_pipeline_and_lifetime_value() -> None:
    report = await funnel_report(MARKETER, FunnelFilter(), NOW)

    assert [(m.month, m.qualified, m.growth_rate, m.partial) for m in report.lead_velocity] == [
        ("2026-01", 2, None, False),
        ("2026-02", 2, 0.0, False),
        ("2026-03", 0, -1.0, False),  # no qualified lead: listed, and a fall of 100%
        ("2026-04", 0, None, False),  # after a month with none: no rate
        ("2026-05", 0, None, False),
        ("2026-06", 0, None, True),  # NOW is in June: partial, no rate
    ]
    p = report.pipeline
    assert (p.open_opportunities, p.open_value, p.customers, p.lost_opportunities) == (
        1,
        Decimal("500.00"),
        1,
        1,
    )
    assert (p.win_rate, p.average_deal_value, p.sales_cycle_days) == (0.5, Decimal("1000.00"), 20)
    assert p.opportunity_cycle_days == 10.0  # A: opportunity day 10 → customer day 20
    assert p.velocity_per_day == Decimal("50.00")  # 1 × 0.5 × 1000 ÷ 10
    assert (p.won_total, p.won_per_customer) == (Decimal("1000.00"), Decimal("1000.00"))


@pytest.mark.usefixtures("five")
async def test_breakdowns_campaign_costs_and_sla() -> None:
    report = await funnel_report(MARKETER, FunnelFilter(), NOW)

    source = {b.key: b for b in report.by_source}
    web = source["web_form"]
    assert (web.leads, web.mqls, web.sqls, web.opportunities, web.customers) == (2, 2, 2, 2, 1)
    assert (web.conversion_rate, web.won_amount) == (0.5, Decimal("1000.00"))
    assert (source["event"].leads, source["event"].mqls, source["event"].conversion_rate) == (
        2,
        1,
        0.0,
    )
    assert source["referral"].opportunities == 1
    assert [(b.key, b.leads) for b in report.by_cohort] == [("2026-01", 2), ("2026-02", 3)]
    assert [(b.key, b.leads, b.customers) for b in report.by_campaign] == [
        ("C1", 2, 1),
        ("C2", 1, 0),
        (None, 2, 0),
    ]
    assert [(b.key, b.leads) for b in report.by_channel] == [(None, 5)]
    costs = {
        c.name: (c.leads, c.customers, c.cost_per_lead, c.acquisition_cost)
        for c in report.campaigns
    }
    assert costs == {
        "C1": (2, 1, Decimal("500.00"), Decimal("1000.00")),
        "C2": (1, 0, Decimal("300.00"), None),
    }
    assert report.cost_per_lead == Decimal("433.33")  # 1300 ÷ 3
    assert report.customer_acquisition_cost == Decimal("1300.00")
    assert report.blended_acquisition_cost == Decimal("1300.00")  # the one customer is C1's
    assert (report.sla.due, report.sla.met) == (3, 1)
    assert report.sla.compliance_rate == pytest.approx(1 / 3)


@pytest.mark.usefixtures("five")
async def test_filters_by_date_range_team_and_owner() -> None:
    feb = await funnel_report(MARKETER, FunnelFilter(created_from=FEB - DAY), NOW)
    jan = await funnel_report(MARKETER, FunnelFilter(created_to=FEB - DAY), NOW)
    rep = await a_staff_user(Role.SALES_REP)
    owned = await a_lead(owner_id=rep.id)
    only_theirs = await funnel_report(MARKETER, FunnelFilter(owner_id=rep.id), NOW)
    as_rep = await funnel_report(principal_for(rep), FunnelFilter(), NOW)
    team = await funnel_report(MARKETER, FunnelFilter(team_id=987654), NOW)

    assert (feb.total_leads, jan.total_leads) == (3, 2)
    assert feb.pipeline.customers == 0
    assert jan.pipeline.open_opportunities == 0
    assert only_theirs.total_leads == as_rep.total_leads == 1
    assert owned.owner_id == rep.id
    assert team.total_leads == 0


async def test_an_empty_period_divides_by_nothing_and_reports_nothing() -> None:
    report = await funnel_report(MARKETER, FunnelFilter(created_from=NOW), NOW)

    assert report.total_leads == 0
    assert all(c.rate is None for c in report.conversions)
    assert all(d.mean_days is None and d.median_days is None for d in report.time_in_stage)
    assert report.lead_velocity == []
    assert report.pipeline.win_rate is None
    assert report.pipeline.velocity_per_day is None
    assert report.pipeline.won_per_customer is None
    assert (report.cost_per_lead, report.customer_acquisition_cost) == (None, None)
    assert (report.sla.due, report.sla.compliance_rate) == (0, None)
    assert report.by_source == []


@pytest.mark.usefixtures("five")
async def test_the_report_costs_a_fixed_number_of_queries() -> None:
    await funnel_report(MARKETER, FunnelFilter(), NOW)  # the audit chain's first checkpoint
    with count_queries() as small:
        await funnel_report(MARKETER, FunnelFilter(), NOW)
    for _ in range(5):
        await journey(T0, [(Stage.MQL, 1)])
    with count_queries() as large:
        await funnel_report(MARKETER, FunnelFilter(), NOW)
    # four statements over the leads, one for campaign costs, and the audit event's append
    assert len(small) == len(large)
    assert small[:5] == ["WITH", "WITH", "WITH", "WITH", "SELECT"]


@pytest.mark.usefixtures("five")
async def test_an_analyst_sees_no_cell_under_five_leads() -> None:
    analyst = Principal(role=Role.ANALYST)
    await a_lead(bases=False, created_at=FEB)  # no analytics basis: not counted for analysts

    report = await funnel_report(analyst, FunnelFilter(), NOW)

    assert report.suppression_threshold == 5
    assert report.total_leads == 5
    # five stages of one lead each under a total of five: withholding the five would still
    # say each is one, so the zeros are withheld too
    assert set(stages(report).values()) == {None}
    assert (report.created_from, report.created_to) == (
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 4, 1, tzinfo=UTC),
    )
    lead_to_mql = report.conversions[0]
    assert (lead_to_mql.reached, lead_to_mql.converted, lead_to_mql.rate) == (5, None, None)
    assert report.pipeline.won_per_customer is None
    assert report.pipeline.win_rate is None
    assert report.sales_cycle.mean_days is None
    assert all(b.leads is None for b in report.by_source)
    assert report.sla.compliance_rate is None
    # a campaign's withheld lead count withholds what is derived from it (customers: 0 of 2)
    assert [
        (c.name, c.leads, c.customers, c.cost_per_lead, c.acquisition_cost)
        for c in report.campaigns
    ] == [
        ("C1", None, None, None, None),
        ("C2", None, None, None, None),
    ]
    full = await funnel_report(MARKETER, FunnelFilter(), NOW)
    assert full.total_leads == 6


async def test_a_single_small_cell_is_not_left_to_subtraction() -> None:
    for _ in range(6):
        await journey(T0, [])
    await journey(T0, [(Stage.MQL, 1)])

    report = await funnel_report(Principal(role=Role.ANALYST), FunnelFilter(), NOW)

    assert report.total_leads == 7
    # MQL (1) is withheld; shown alone, lead (6) would give it away as 7 − 6
    assert stages(report)["mql"] is None
    assert stages(report)["lead"] is None
    marketer = await funnel_report(MARKETER, FunnelFilter(), NOW)
    assert (stages(marketer)["lead"], stages(marketer)["mql"]) == (6, 1)


async def test_lead_velocity_compares_calendar_months_on_filtered_views() -> None:
    """Worked by hand. Team 1: qualified Jan 1, Mar 2, Apr 3 (April is NOW's month).
    Team 2 (one lead, qualified Feb): left out of team 1's view, where February is 0."""
    first, second = await a_team(), await a_team()
    team_one, team_two = {"team_id": first.id}, {"team_id": second.id}
    jan, feb = datetime(2026, 1, 10, tzinfo=UTC), datetime(2026, 2, 10, tzinfo=UTC)
    mar, apr = datetime(2026, 3, 10, tzinfo=UTC), datetime(2026, 4, 2, tzinfo=UTC)
    now = datetime(2026, 4, 20, tzinfo=UTC)
    await journey(jan, [(Stage.MQL, 1)], **team_one)
    await journey(mar, [(Stage.MQL, 1)], **team_one)
    await journey(mar, [(Stage.MQL, 2), (Stage.SQL, 3)], **team_one)
    for _ in range(3):
        await journey(apr, [(Stage.SQL, 1)], **team_one)
    await journey(feb, [(Stage.MQL, 1)], **team_two)

    team = await funnel_report(MARKETER, FunnelFilter(team_id=first.id), now)
    everyone = await funnel_report(MARKETER, FunnelFilter(), now)
    later = await funnel_report(MARKETER, FunnelFilter(created_from=mar), now)

    def rows(report: FunnelReport) -> list[tuple[str, int | None, float | None, bool]]:
        return [(m.month, m.qualified, m.growth_rate, m.partial) for m in report.lead_velocity]

    assert rows(team) == [
        ("2026-01", 1, None, False),
        ("2026-02", 0, -1.0, False),
        ("2026-03", 2, None, False),  # the month before had none
        ("2026-04", 3, None, True),  # partial: counted so far, never compared
    ]
    assert rows(everyone) == [
        ("2026-01", 1, None, False),
        ("2026-02", 1, 0.0, False),
        ("2026-03", 2, 1.0, False),
        ("2026-04", 3, None, True),
    ]
    assert rows(later) == [("2026-03", 2, None, False), ("2026-04", 3, None, True)]


def test_a_month_after_december_is_january() -> None:
    from leads.funnel.tables import _month_after

    assert [_month_after(m) for m in ("2025-11", "2025-12", "2026-01")] == [
        "2025-12",
        "2026-01",
        "2026-02",
    ]


@pytest.mark.usefixtures("five")
async def test_a_team_view_is_charged_its_share_of_campaign_costs() -> None:
    """Worked by hand. C1 (cost 1000) has two leads, A and B, of which only a lead like A
    (a customer won for 1000) is in team T; T also won a customer F from no campaign.
    T is charged 1000 × 1 ÷ 3 (C1 now has three leads: A, B and T's)."""
    team = await a_team()
    c1 = await Campaign.get(name="C1")
    await journey(
        T0,
        [(Stage.MQL, 1), (Stage.SQL, 2), (Stage.OPPORTUNITY, 4), (Stage.CUSTOMER, 7)],
        team_id=team.id,
        campaign_id=c1.id,
        won_amount=Decimal(600),
    )
    await journey(
        T0,
        [(Stage.MQL, 1), (Stage.SQL, 2), (Stage.OPPORTUNITY, 3), (Stage.CUSTOMER, 9)],
        team_id=team.id,
        won_amount=Decimal(400),
    )

    view = await funnel_report(MARKETER, FunnelFilter(team_id=team.id), NOW)
    whole = await funnel_report(MARKETER, FunnelFilter(), NOW)

    [row] = view.campaigns
    assert (row.name, row.cost, row.charged_cost, row.leads, row.customers) == (
        "C1",
        Decimal("1000.00"),
        Decimal("333.33"),
        1,
        1,
    )
    assert row.cost_per_lead == Decimal("333.33")
    assert view.customer_acquisition_cost == Decimal("333.33")  # ÷ 1 attributed customer
    assert view.blended_acquisition_cost == Decimal("166.67")  # ÷ 2 customers in view
    assert view.pipeline.opportunity_cycle_days == 4.5  # 3 days and 6 days
    assert sum(c.charged_cost for c in whole.campaigns) == Decimal("1300.00")
    assert whole.blended_acquisition_cost == Decimal("433.33")  # 1300 ÷ 3 customers
    assert whole.customer_acquisition_cost == Decimal("650.00")  # 1300 ÷ 2 attributed


async def test_an_unfiltered_view_is_charged_campaigns_that_brought_no_lead() -> None:
    await a_campaign(name="Silent", cost=Decimal(200))
    await journey(
        T0,
        [(Stage.MQL, 1), (Stage.SQL, 2), (Stage.OPPORTUNITY, 3), (Stage.CUSTOMER, 5)],
        won_amount=Decimal(100),
    )

    whole = await funnel_report(MARKETER, FunnelFilter(), NOW)
    dated = await funnel_report(MARKETER, FunnelFilter(created_from=T0 - DAY), NOW)

    assert [(c.name, c.leads, c.charged_cost) for c in whole.campaigns] == [
        ("Silent", 0, Decimal("200.00"))
    ]
    assert whole.blended_acquisition_cost == Decimal("200.00")
    assert whole.customer_acquisition_cost is None  # no attributed customer
    assert dated.campaigns == []  # a campaign without leads cannot be shared out by leads
    assert dated.blended_acquisition_cost == Decimal("0.00")  # nothing charged to this view
