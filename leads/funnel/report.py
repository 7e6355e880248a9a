"""The funnel report: runs the four statements and sums their groups into stage counts,
conversions, durations, lead velocity, pipeline figures, breakdowns, campaign costs and SLA
compliance.

Definitions:
- conversion from a stage to the next = leads that reached the next ÷ leads that reached it;
- win rate = customers ÷ (customers + opportunities lost, i.e. disqualified after reaching
  opportunity);
- average deal value = mean won amount of customers with one;
- pipeline velocity (per day) = open opportunities × win rate × average deal value ÷ mean
  opportunity cycle days (first reaching opportunity → customer, over won leads; the mean is
  not rounded before dividing);
- won per customer = total won amount ÷ customers (every deal of a customer is on its lead);
- lead velocity rate for a month = (qualified this month − qualified the calendar month
  before) ÷ qualified the calendar month before; every calendar month from the first with a
  qualified lead to the current one is listed (none qualified: 0); the rate is None for the
  first month, after a month with none, and for the current month, which is partial;
- campaign costs charged to a view (:mod:`leads.funnel.costs`): each campaign's cost × its
  leads in view ÷ all its leads; cost per lead = charged cost ÷ attributed leads in view;
  attributed acquisition cost = charged cost ÷ attributed customers; blended acquisition
  cost = all charged cost ÷ all customers in view;
- SLA compliance = first-contact tasks done by their due time ÷ tasks due so far.

A ratio with a zero denominator, or a mean over nothing, is None, never an error.

Small-cell suppression (:mod:`leads.funnel.suppression`) applies to every figure.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from itertools import pairwise
from typing import Any

from tortoise import connections

from identity.principal import Principal
from leads.enums import Stage
from leads.funnel.costs import campaign_spend
from leads.funnel.queries import Sql, base_sql, durations_sql, groups_sql, sla_sql, velocity_sql
from leads.funnel.results import (
    Breakdown,
    Conversion,
    Duration,
    FunnelFilter,
    FunnelReport,
    MonthCount,
    Pipeline,
    Sla,
    StageCount,
)
from leads.funnel.suppression import MIN_CELL, Guard, aggregate_only
from leads.lifecycle import FUNNEL, RANK

STEPS: tuple[tuple[Stage, Stage], ...] = tuple(pairwise(FUNNEL[1:]))
"""lead → MQL → SQL → opportunity → customer."""


@dataclass(slots=True)
class Totals:
    leads: int = 0
    reached: list[int] = field(default_factory=lambda: [0] * len(FUNNEL))
    won_n: int = 0
    won_sum: Decimal = Decimal(0)
    lost: int = 0
    open_opportunities: int = 0
    open_value: Decimal = Decimal(0)

    def add(self, row: dict[str, Any]) -> None:
        n = int(row["n"])
        self.leads += n
        for k in range(len(FUNNEL)):
            self.reached[k] += int(row[f"r{k}"] or 0)
        self.lost += int(row["lost"] or 0)
        self.won_n += int(row["won_n"] or 0)
        self.won_sum += Decimal(str(row["won_sum"] or 0))
        if row["stage"] == Stage.OPPORTUNITY.value:
            self.open_opportunities += n
            self.open_value += Decimal(str(row["open_value"] or 0))


def _money(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(Decimal("0.01"))


def _divide(top: Decimal, bottom: int | float) -> Decimal | None:
    return _money(top / Decimal(str(bottom))) if bottom else None


def _breakdown(guard: Guard, groups: dict[Any, Totals], label: Any = str) -> list[Breakdown]:
    keys = sorted(groups, key=lambda k: (k is None, str(k)))
    total = sum(groups[k].leads for k in keys)
    shown_leads = guard.counts(total, [groups[k].leads for k in keys])
    result = []
    for key, leads in zip(keys, shown_leads, strict=True):
        t = groups[key]
        hide = leads is None
        customers = t.reached[RANK[Stage.CUSTOMER]]
        result.append(
            Breakdown(
                key=None if key is None else label(key),
                leads=leads,
                mqls=None if hide else guard.count(t.reached[RANK[Stage.MQL]]),
                sqls=None if hide else guard.count(t.reached[RANK[Stage.SQL]]),
                opportunities=None if hide else guard.count(t.reached[RANK[Stage.OPPORTUNITY]]),
                customers=None if hide else guard.count(customers),
                conversion_rate=None if hide else guard.ratio(customers, t.leads, customers),
                won_amount=None if hide or guard.small(t.won_n) else _money(t.won_sum),
            )
        )
    return result


def _duration(
    guard: Guard, metric: str, row: dict[str, Any] | None, scale: float = 1.0
) -> Duration:
    if row is None:
        return Duration(metric, 0, None, None)
    n = int(row["n"])
    if guard.small(n):
        return Duration(metric, None, None, None)

    def scaled(value: Any) -> float | None:
        return None if value is None else round(float(value) * scale, 3)

    return Duration(metric, n, scaled(row["mean"]), scaled(row["median"]))


def _month_after(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


def lead_velocity(guard: Guard, qualified: dict[str, int], now: datetime) -> list[MonthCount]:
    """Every calendar month from the first with a qualified lead through the current one,
    months without any counted as 0, each compared with the calendar month before it. The
    current month is still under way: it is marked partial and gets no growth rate."""
    if not qualified:
        return []
    current = f"{now.year:04d}-{now.month:02d}"
    last = max(current, max(qualified))
    months: list[MonthCount] = []
    month, previous = min(qualified), None
    while month <= last:
        n = qualified.get(month, 0)
        partial = month == current
        growth = (
            guard.ratio(n - previous, previous, n)
            if previous and not partial and not guard.small(previous)
            else None
        )
        months.append(MonthCount(month, guard.count(n), growth, partial))
        month, previous = _month_after(month), n
    return months


def _pipeline(
    guard: Guard, totals: Totals, cycle: Duration, opportunity_row: dict[str, Any] | None
) -> Pipeline:
    customers = totals.reached[RANK[Stage.CUSTOMER]]
    win_rate = guard.ratio(customers, customers + totals.lost, customers, totals.lost)
    average_deal = None if guard.small(totals.won_n) else _divide(totals.won_sum, totals.won_n)
    open_opps = guard.count(totals.open_opportunities)
    won = int(opportunity_row["n"]) if opportunity_row else 0
    raw_cycle = (
        Decimal(str(opportunity_row["mean"]))
        if opportunity_row and opportunity_row["mean"] is not None and not guard.small(won)
        else None
    )
    velocity: Decimal | None = None
    if open_opps is not None and win_rate is not None and average_deal is not None and raw_cycle:
        velocity = _money(Decimal(open_opps) * Decimal(str(win_rate)) * average_deal / raw_cycle)
    return Pipeline(
        open_opportunities=open_opps,
        open_value=None if open_opps is None else _money(totals.open_value),
        customers=guard.count(customers),
        lost_opportunities=guard.count(totals.lost),
        win_rate=win_rate,
        average_deal_value=average_deal,
        sales_cycle_days=cycle.mean_days,
        opportunity_cycle_days=None if raw_cycle is None else round(float(raw_cycle), 3),
        velocity_per_day=velocity,
        won_total=None if guard.small(totals.won_n) else _money(totals.won_sum),
        won_per_customer=None if guard.small(customers) else _divide(totals.won_sum, customers),
    )


async def funnel_report(principal: Principal, chosen: FunnelFilter, now: datetime) -> FunnelReport:
    db = connections.get("default")
    dialect = db.capabilities.dialect
    guard = Guard(aggregate_only(principal))

    async def run(build: Any, *extra: Any) -> list[dict[str, Any]]:
        sql = Sql(dialect)
        text = build(sql, base_sql(sql, principal, chosen), *extra)
        return list(await db.execute_query_dict(text, sql.values))

    group_rows = await run(groups_sql)
    duration_rows = {str(r["metric"]): r for r in await run(durations_sql)}
    month_rows = await run(velocity_sql)
    sla_row = (await run(sla_sql, now))[0]

    totals = Totals()
    by_stage: dict[str, int] = defaultdict(int)
    dims: dict[str, dict[Any, Totals]] = {
        name: defaultdict(Totals) for name in ("source", "channel", "campaign_id", "cohort")
    }
    for row in group_rows:
        totals.add(row)
        by_stage[row["stage"]] += int(row["n"])
        for name, groups in dims.items():
            groups[row[name]].add(row)

    stage_order = [*FUNNEL, Stage.DISQUALIFIED]
    stage_counts = guard.counts(totals.leads, [by_stage.get(s.value, 0) for s in stage_order])
    conversions = []
    for source, target in STEPS:
        reached, converted = totals.reached[RANK[source]], totals.reached[RANK[target]]
        conversions.append(
            Conversion(
                source,
                target,
                guard.count(reached),
                guard.count(converted),
                guard.ratio(converted, reached, converted),
            )
        )
    time_in_stage = [
        _duration(guard, stage.value, duration_rows.get(stage.value)) for stage in stage_order[:-1]
    ]
    cycle = _duration(guard, "sales_cycle", duration_rows.get("sales_cycle"))
    speed = _duration(guard, "speed_to_lead", duration_rows.get("speed_to_lead"), 1440.0)

    velocity = lead_velocity(guard, {str(r["month"]): int(r["n"]) for r in month_rows}, now)

    customers = totals.reached[RANK[Stage.CUSTOMER]]
    pipeline = _pipeline(guard, totals, cycle, duration_rows.get("opportunity_cycle"))
    in_view = {
        int(k): (t.leads, t.reached[RANK[Stage.CUSTOMER]])
        for k, t in dims["campaign_id"].items()
        if k is not None
    }
    spend = await campaign_spend(guard, in_view, customers, chosen)
    names = {c.campaign_id: c.name for c in spend.campaigns}
    due, met = int(sla_row["due"] or 0), int(sla_row["met"] or 0)
    return FunnelReport(
        total_leads=guard.count(totals.leads),
        suppression_threshold=MIN_CELL if guard.active else None,
        stages=[StageCount(s, c) for s, c in zip(stage_order, stage_counts, strict=True)],
        conversions=conversions,
        time_in_stage=time_in_stage,
        sales_cycle=cycle,
        speed_to_lead=speed,
        lead_velocity=velocity,
        pipeline=pipeline,
        by_source=_breakdown(guard, dims["source"]),
        by_channel=_breakdown(guard, dims["channel"]),
        by_campaign=_breakdown(guard, dims["campaign_id"], lambda k: names.get(int(k), str(k))),
        by_cohort=_breakdown(guard, dims["cohort"]),
        campaigns=spend.campaigns,
        cost_per_lead=spend.cost_per_lead,
        customer_acquisition_cost=spend.attributed_acquisition_cost,
        blended_acquisition_cost=spend.blended_acquisition_cost,
        sla=Sla(guard.count(due), guard.count(met), guard.ratio(met, due, met)),
    )
