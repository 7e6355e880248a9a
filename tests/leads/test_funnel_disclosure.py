"""Disclosure control on the funnel report: the two attacks that recovered withheld values,
replayed against an analyst's report, and the rules that defeat them.

The quarter (2026-Q1), by source:
    web_form  20 leads (Jan, campaign C6): 12 SQLs, 8 opportunities, 6 customers
    referral  15 leads (Feb, no campaign):  9 SQLs, 7 opportunities, 5 customers
    import     6 leads (Mar, no campaign):  4 SQLs, 2 opportunities
    event     30 leads (Feb, campaigns C1–C5, six each): one customer per campaign
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audit.models import AuditEvent
from core.errors import ValidationFailed
from identity.principal import Principal
from identity.roles import Role
from leads.enums import Source, Stage
from leads.funnel import FunnelFilter, FunnelReport, funnel_report
from leads.funnel.periods import aggregate_view
from leads.funnel.suppression import MIN_CELL, Guard, Withheld, pinned
from tests.builders import a_campaign
from tests.leads.test_funnel import journey

Q1 = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 6, 1, tzinfo=UTC)
ANALYST = Principal(role=Role.ANALYST)
MARKETER = Principal(role=Role.MARKETER)
TO_CUSTOMER = [(Stage.MQL, 1), (Stage.SQL, 2), (Stage.OPPORTUNITY, 3), (Stage.CUSTOMER, 9)]
TO_OPPORTUNITY = TO_CUSTOMER[:3]
TO_SQL = TO_CUSTOMER[:2]


async def leads(n: int, path: list[tuple[Stage, int]], created: datetime, **values: Any) -> None:
    for _ in range(n):
        won = {"won_amount": Decimal(1000)} if path and path[-1][0] is Stage.CUSTOMER else {}
        await journey(created, path, **won, **values)


@pytest.fixture
async def quarter() -> None:
    jan, feb, mar = Q1 + timedelta(days=9), Q1 + timedelta(days=40), Q1 + timedelta(days=70)
    c6 = await a_campaign(name="C6", cost=Decimal(6000))
    web = {"source": Source.WEB_FORM, "campaign_id": c6.id}
    await leads(6, TO_CUSTOMER, jan, **web)
    await leads(2, TO_OPPORTUNITY, jan, **web)
    await leads(4, TO_SQL, jan, **web)
    await leads(8, [], jan, **web)
    await leads(5, TO_CUSTOMER, feb, source=Source.REFERRAL)
    await leads(2, TO_OPPORTUNITY, feb, source=Source.REFERRAL)
    await leads(2, TO_SQL, feb, source=Source.REFERRAL)
    await leads(6, [], feb, source=Source.REFERRAL)
    await leads(2, TO_OPPORTUNITY, mar, source=Source.IMPORT)
    await leads(2, TO_SQL, mar, source=Source.IMPORT)
    await leads(2, [], mar, source=Source.IMPORT)
    for n in range(1, 6):
        campaign = await a_campaign(name=f"C{n}", cost=Decimal(1000))
        event = {"source": Source.EVENT, "campaign_id": campaign.id}
        await leads(1, TO_CUSTOMER, feb, **event)
        await leads(5, [], feb, **event)


COLUMNS = {  # a breakdown column and the report's total it adds up to
    "leads": lambda r: r.total_leads,
    "mqls": lambda r: r.conversions[0].converted,
    "sqls": lambda r: r.conversions[1].converted,
    "opportunities": lambda r: r.conversions[2].converted,
    "customers": lambda r: r.conversions[3].converted,
}


def within_report(report: FunnelReport) -> dict[tuple[str, str | None, str], int]:
    """The first attack: every withheld cell the analyst can pin down from one report.

    - a breakdown column's total less its shown cells (306 − 302 = 4 SQLs from import);
    - campaign costs ÷ acquisition cost = customers attributed to a campaign, less those
      shown (five customers over five withheld campaigns: one each).

    With ``S`` left over ``n`` withheld cells, each at least one: one cell alone is ``S``,
    and ``S == n`` makes each one."""
    found: dict[tuple[str, str | None, str], int] = {}

    def solve(table: str, column: str, total: int | None, cells: dict[str | None, Any]) -> None:
        hidden = [k for k, v in cells.items() if v is None]
        if total is None or not hidden:
            return
        left = total - sum(v for v in cells.values() if v is not None)
        if len(hidden) == 1 or left == len(hidden):
            for key in hidden:
                found[(table, key, column)] = left // len(hidden)

    for table in ("by_source", "by_channel", "by_campaign", "by_cohort"):
        rows = getattr(report, table)
        for column, total in COLUMNS.items():
            solve(table, column, total(report), {b.key: getattr(b, column) for b in rows})
    solve(
        "stages",
        "leads",
        report.total_leads,
        {s.stage.value: s.leads for s in report.stages},
    )
    if report.customer_acquisition_cost:
        charged = sum(c.charged_cost for c in report.campaigns if c.charged_cost is not None)
        if all(c.charged_cost is not None for c in report.campaigns):
            attributed = round(charged / report.customer_acquisition_cost)
            cells = {c.name: c.customers for c in report.campaigns}
            solve("campaigns", "customers", attributed, cells)
    return found


def truth(report: FunnelReport, table: str, key: str | None, column: str) -> int:
    if table == "stages":
        return next(s.leads for s in report.stages if s.stage.value == key) or 0
    if table == "campaigns":
        return next(c.customers for c in report.campaigns if c.name == key) or 0
    return next(getattr(b, column) for b in getattr(report, table) if b.key == key)


def primary_only(self: Guard, cells: dict[Any, int], also: Any = ()) -> Withheld[Any]:
    """Small-cell suppression as it was: small cells only, nothing to protect them."""
    return Withheld(frozenset(k for k, v in cells.items() if self.small(v)))


@pytest.mark.usefixtures("quarter")
async def test_the_within_report_attack_recovers_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    full = await funnel_report(MARKETER, FunnelFilter(created_from=Q1, created_to=NOW), NOW)

    report = await funnel_report(ANALYST, FunnelFilter(), NOW)

    assert report.total_leads == full.total_leads == 71
    assert within_report(report) == {}
    # withheld: import's SQLs (4) and opportunities (2), March's opportunities (2), each
    # campaign's one customer, and enough beside them
    source = {b.key: b for b in report.by_source}
    assert (source["import"].leads, source["import"].sqls, source["import"].opportunities) == (
        6,
        None,
        None,
    )
    assert [c.customers for c in report.campaigns] == [None] * 6
    assert report.customer_acquisition_cost is not None

    # the same attack on suppression without complementary cells gets every one back
    monkeypatch.setattr(Guard, "withhold", primary_only)
    weak = await funnel_report(ANALYST, FunnelFilter(), NOW)
    recovered = within_report(weak)
    assert recovered[("by_source", "import", "sqls")] == 4
    assert recovered[("by_source", "import", "opportunities")] == 2
    assert recovered[("by_cohort", "2026-03", "opportunities")] == 2
    assert {recovered[("campaigns", f"C{n}", "customers")] for n in range(1, 6)} == {1}
    assert all(truth(full, *key) == value for key, value in recovered.items())


@pytest.mark.usefixtures("quarter")
async def test_the_cross_report_attack_gets_no_second_report() -> None:
    """The second attack: two reports whose populations differ by one lead (start dates a
    day apart), the difference of every figure being that lead's."""
    lone = await journey(
        Q1 + timedelta(hours=10), TO_CUSTOMER, source=Source.PARTNER, won_amount=Decimal("96233.13")
    )
    day = timedelta(days=1)
    # a role without disclosure control can do it: that is the attack
    one = await funnel_report(MARKETER, FunnelFilter(created_from=Q1, created_to=NOW), NOW)
    two = await funnel_report(MARKETER, FunnelFilter(created_from=Q1 + day, created_to=NOW), NOW)
    assert (one.total_leads or 0) - (two.total_leads or 0) == 1
    assert (one.pipeline.won_total or 0) - (two.pipeline.won_total or 0) == Decimal("96233.13")
    assert lone.won_amount == Decimal("96233.13")

    base = await funnel_report(ANALYST, FunnelFilter(), NOW)
    assert (base.created_from, base.created_to) == (Q1, datetime(2026, 4, 1, tzinfo=UTC))
    shrinking = {
        "created_from": FunnelFilter(created_from=Q1 + day),
        "created_to": FunnelFilter(created_from=Q1, created_to=NOW - day),
        "owner_id": FunnelFilter(owner_id=lone.owner_id or lone.id),
        "team_id": FunnelFilter(team_id=1),
    }
    for field, chosen in shrinking.items():
        with pytest.raises(ValidationFailed) as refused:
            await funnel_report(ANALYST, chosen, NOW)
        assert field in [e.field for e in refused.value.errors], field
    # every view the analyst may have is a quarter: they share no lead, so no difference
    # of two is smaller than a whole report
    # each refused view is in the audit trail, with the filters it tried and no figure
    refusals = await AuditEvent.filter(action="funnel.read", outcome="denied").order_by("id")
    assert [e.details["refused"] for e in refusals] == list(shrinking)
    assert refusals[0].details["created_from"] == (Q1 + day).isoformat()
    assert "96233" not in str([e.details for e in await AuditEvent.filter(action="funnel.read")])
    earlier = FunnelFilter(created_from=datetime(2025, 10, 1, tzinfo=UTC))
    q4 = await funnel_report(ANALYST, earlier, NOW)
    assert q4.total_leads == 0
    assert base.total_leads == 72


def test_the_views_partition_time() -> None:
    now = datetime(2026, 12, 2, 15, tzinfo=UTC)
    last = aggregate_view(FunnelFilter(), now)
    assert (last.created_from, last.created_to) == (
        datetime(2026, 7, 1, tzinfo=UTC),
        datetime(2026, 10, 1, tzinfo=UTC),
    )
    zoned = aggregate_view(
        FunnelFilter(created_from=datetime.fromisoformat("2026-04-01T02:00:00+02:00")), now
    )
    assert zoned.created_from == datetime(2026, 4, 1, tzinfo=UTC)
    with pytest.raises(ValidationFailed) as refused:
        aggregate_view(FunnelFilter(created_to=datetime(2026, 4, 1, tzinfo=UTC)), now)
    assert [e.code for e in refused.value.errors] == ["required"]
    with pytest.raises(ValidationFailed) as refused:
        aggregate_view(FunnelFilter(created_from=datetime(2026, 10, 1, tzinfo=UTC)), now)
    assert [(e.field, e.code) for e in refused.value.errors] == [("created_from", "unfinished")]


def test_one_small_cell_takes_the_next_smallest_with_it() -> None:
    guard = Guard(True)
    assert guard.withhold({"a": 4, "b": 8, "c": 30}).keys == {"a", "b"}
    assert guard.withhold({"a": 4, "b": 0, "c": 30}).keys == {"a", "c"}
    assert guard.withhold({"a": 5, "b": 0, "c": 30}).keys == frozenset()
    assert Guard(False).withhold({"a": 1, "b": 30}).keys == frozenset()


def test_small_cells_that_add_up_to_little_take_a_larger_one() -> None:
    guard = Guard(True)
    ones = {f"c{n}": 1 for n in range(5)}
    assert guard.withhold({**ones, "big": 6}).keys == {*ones, "big"}
    # nothing larger to take: the zeros are withheld too, so none is known to be non-zero
    whole = guard.withhold({**ones, "zero": 0})
    assert whole.whole
    assert whole.keys == {*ones, "zero"}
    # a cell withheld for its row counts as withheld here
    assert guard.withhold({"a": 9, "b": 7, "c": 30}, also=["a"]).keys == {"a", "b"}


@given(st.dictionaries(st.integers(0, 9), st.integers(0, 40), min_size=1, max_size=8))
def test_no_withheld_cell_can_be_pinned_down(cells: dict[int, int]) -> None:
    withheld = Guard(True).withhold(cells)
    assert all(k in withheld for k, v in cells.items() if 0 < v < MIN_CELL)
    hidden = [cells[k] for k in withheld.keys]
    assert withheld.whole or not pinned(hidden)
    if not withheld.whole:
        assert all(cells[k] > 0 for k in withheld.keys)


@pytest.mark.usefixtures("quarter")
async def test_amounts_rates_and_costs_go_with_their_counts() -> None:
    report = await funnel_report(ANALYST, FunnelFilter(), NOW)
    by_campaign = {b.key: b for b in report.by_campaign}
    for n in range(1, 6):
        row = by_campaign[f"C{n}"]
        assert (row.customers, row.conversion_rate, row.won_amount) == (None, None, None)
    assert all(c.acquisition_cost is None for c in report.campaigns)
    assert {c.name: c.charged_cost for c in report.campaigns}["C1"] == Decimal("1000.00")
    full = await funnel_report(MARKETER, FunnelFilter(created_from=Q1, created_to=NOW), NOW)
    assert report.blended_acquisition_cost == full.blended_acquisition_cost
