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

For roles that see no personal data: one finished quarter per view
(:mod:`leads.funnel.periods`) and withheld cells (:mod:`leads.funnel.suppression`, table by
table in :mod:`leads.funnel.tables`), applied to every figure.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from itertools import pairwise
from typing import Any

from tortoise import connections

from audit.events import Event, Outcome, Target, record
from core.errors import ValidationFailed
from identity.events import actor_of
from identity.principal import Principal
from leads.enums import Stage
from leads.funnel.costs import campaign_spend
from leads.funnel.periods import aggregate_view
from leads.funnel.queries import Sql, base_sql, durations_sql, groups_sql, sla_sql, velocity_sql
from leads.funnel.results import (
    Conversion,
    Duration,
    FunnelFilter,
    FunnelReport,
    Pipeline,
    StageCount,
)
from leads.funnel.suppression import MIN_CELL, Guard, aggregate_only
from leads.funnel.tables import Totals, breakdown, divide, lead_velocity, money, sla
from leads.lifecycle import FUNNEL, RANK

STEPS: tuple[tuple[Stage, Stage], ...] = tuple(pairwise(FUNNEL[1:]))
"""lead → MQL → SQL → opportunity → customer."""


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


def _pipeline(
    guard: Guard,
    totals: Totals,
    cycle: Duration,
    opportunity_row: dict[str, Any] | None,
    open_shown: bool,
) -> Pipeline:
    customers = totals.reached[RANK[Stage.CUSTOMER]]
    win_rate = guard.ratio(customers, customers + totals.lost, customers, totals.lost)
    average_deal = None if guard.small(totals.won_n) else divide(totals.won_sum, totals.won_n)
    open_opps = totals.open_opportunities if open_shown else None
    won = int(opportunity_row["n"]) if opportunity_row else 0
    raw_cycle = (
        Decimal(str(opportunity_row["mean"]))
        if opportunity_row and opportunity_row["mean"] is not None and not guard.small(won)
        else None
    )
    velocity: Decimal | None = None
    if open_opps is not None and win_rate is not None and average_deal is not None and raw_cycle:
        velocity = money(Decimal(open_opps) * Decimal(str(win_rate)) * average_deal / raw_cycle)
    return Pipeline(
        open_opportunities=open_opps,
        open_value=None if open_opps is None else money(totals.open_value),
        customers=guard.count(customers),
        lost_opportunities=guard.count(totals.lost),
        win_rate=win_rate,
        average_deal_value=average_deal,
        sales_cycle_days=cycle.mean_days,
        opportunity_cycle_days=None if raw_cycle is None else round(float(raw_cycle), 3),
        velocity_per_day=velocity,
        won_total=None if guard.small(totals.won_n) else money(totals.won_sum),
        won_per_customer=None if guard.small(customers) else divide(totals.won_sum, customers),
    )


async def _audit(
    principal: Principal, chosen: FunnelFilter, outcome: Outcome, refused: list[str]
) -> None:
    """``funnel.read``: who asked for which view (refused filters named), so repeated
    querying of aggregates shows in the audit trail. No figure is recorded."""
    details: dict[str, Any] = {
        "created_from": chosen.created_from.isoformat() if chosen.created_from else None,
        "created_to": chosen.created_to.isoformat() if chosen.created_to else None,
        "team_id": chosen.team_id,
        "owner_id": str(chosen.owner_id) if chosen.owner_id else None,
        "disclosure_control": aggregate_only(principal),
    }
    if refused:
        details["refused"] = ",".join(refused)
    await record(
        Event(
            action="funnel.read",
            outcome=outcome,
            actor=actor_of(principal),
            target=Target("funnel", "report"),
            purpose=principal.purpose,
            details=details,
        )
    )


async def funnel_report(principal: Principal, chosen: FunnelFilter, now: datetime) -> FunnelReport:
    """The report over the leads ``principal`` may see. A role that sees no personal data
    gets one finished quarter (:func:`leads.funnel.periods.aggregate_view`, which raises
    :class:`core.errors.ValidationFailed` for any other view) and withheld small cells."""
    db = connections.get("default")
    dialect = db.capabilities.dialect
    guard = Guard(aggregate_only(principal))
    asked = chosen
    if guard.active:
        try:
            chosen = aggregate_view(chosen, now)
        except ValidationFailed as refused:
            await _audit(principal, asked, Outcome.DENIED, [e.field for e in refused.errors])
            raise

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
    stage_table = guard.withhold({s: by_stage.get(s.value, 0) for s in stage_order})
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
    pipeline = _pipeline(
        guard,
        totals,
        cycle,
        duration_rows.get("opportunity_cycle"),
        Stage.OPPORTUNITY not in stage_table,
    )
    campaign_ids = [k for k in dims["campaign_id"] if k is not None]
    by_campaign = breakdown(guard, dims["campaign_id"], inner=campaign_ids)
    in_view = {
        int(k): (dims["campaign_id"][k].leads, dims["campaign_id"][k].reached[RANK[Stage.CUSTOMER]])
        for k in campaign_ids
    }
    spend = await campaign_spend(guard, in_view, customers, chosen, by_campaign.withheld)
    names = {str(c.campaign_id): c.name for c in spend.campaigns}
    due, met = int(sla_row["due"] or 0), int(sla_row["met"] or 0)
    await _audit(principal, chosen, Outcome.SUCCESS, [])
    return FunnelReport(
        total_leads=guard.count(totals.leads),
        suppression_threshold=MIN_CELL if guard.active else None,
        created_from=chosen.created_from,
        created_to=chosen.created_to,
        stages=[
            StageCount(s, None if s in stage_table else by_stage.get(s.value, 0))
            for s in stage_order
        ],
        conversions=conversions,
        time_in_stage=time_in_stage,
        sales_cycle=cycle,
        speed_to_lead=speed,
        lead_velocity=velocity,
        pipeline=pipeline,
        by_source=breakdown(guard, dims["source"]).rows,
        by_channel=breakdown(guard, dims["channel"]).rows,
        by_campaign=[
            replace(row, key=names.get(row.key, row.key) if row.key else None)
            for row in by_campaign.rows
        ],
        by_cohort=breakdown(guard, dims["cohort"]).rows,
        campaigns=spend.campaigns,
        cost_per_lead=spend.cost_per_lead,
        customer_acquisition_cost=spend.attributed_acquisition_cost,
        blended_acquisition_cost=spend.blended_acquisition_cost,
        sla=sla(guard, due, met),
    )
