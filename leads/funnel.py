# ruff: noqa: S608 - the SQL below is built from fixed fragments; every value is bound as a parameter
"""Funnel analytics, computed in SQL.

Four statements whatever the number of leads, each one pass over the leads in view:

1. leads grouped by (stage, source, channel, campaign, created month) with, per group, how
   many reached each stage (the furthest stage a lead ever reached, from its stage history),
   open opportunities and their deal values, customers and their won amounts. Stage counts,
   stage-to-stage conversion, the breakdowns by source, channel, campaign and cohort, the
   pipeline figures and campaign costs are sums over these few thousand groups;
2. durations: days in each stage (from one stage change to the next), the sales cycle
   (created → customer) and speed-to-lead (SQL → first human touch), with mean and median
   per metric computed in SQL (median by row number, so SQLite and PostgreSQL agree);
3. qualified leads (first reaching MQL or beyond) per month, for the lead velocity rate;
4. first-contact tasks that were due, and how many were met in time (SLA compliance).

Definitions:
- conversion from a stage to the next = leads that reached the next ÷ leads that reached it;
- win rate = customers ÷ (customers + opportunities lost, i.e. disqualified after reaching
  opportunity);
- average deal value = mean won amount of customers with one;
- pipeline velocity (per day) = open opportunities × win rate × average deal value ÷ mean
  sales-cycle days;
- customer lifetime value = total won amount ÷ customers (every deal of a customer is on its
  lead);
- lead velocity rate for a month = (qualified this month − last month) ÷ last month;
- cost per lead = campaign cost ÷ leads attributed to it; customer-acquisition cost =
  campaign cost ÷ its customers (campaigns with leads in view, at their full cost);
- SLA compliance = first-contact tasks done by their due time ÷ tasks due so far.

A ratio with a zero denominator, or a mean over nothing, is None, never an error.

Small-cell suppression: for roles that see no personal data, any count from 1 to
``MIN_CELL - 1`` is withheld (None), so is every rate, mean or amount computed from such a
count, and, where a withheld count could be worked out from a total and its siblings, the
next smallest sibling too.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from itertools import pairwise
from typing import Any

from tortoise import connections

from compliance.access.policy import AGGREGATE_ONLY
from compliance.access.rules import Actor
from core.bulk import as_sql
from identity.principal import Principal
from leads.enums import Stage
from leads.lifecycle import FUNNEL, RANK
from leads.models import Campaign, Lead
from leads.repository import LeadFilter, LeadRepository

MIN_CELL = 5
STEPS: tuple[tuple[Stage, Stage], ...] = tuple(pairwise(FUNNEL[1:]))
"""lead → MQL → SQL → opportunity → customer."""


@dataclass(frozen=True, slots=True)
class FunnelFilter:
    created_from: datetime | None = None
    created_to: datetime | None = None
    team_id: int | None = None
    owner_id: uuid.UUID | None = None


class _Sql:
    """Placeholders in the dialect's style, numbered as values are added (after the base
    query's own values, which come first)."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.values: list[Any] = []

    def __call__(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}" if self.dialect == "postgres" else "?"

    def days(self, start: str, end: str) -> str:
        if self.dialect == "postgres":
            return f"(EXTRACT(EPOCH FROM ({end} - {start})) / 86400.0)"
        return f"(julianday({end}) - julianday({start}))"

    def month(self, column: str) -> str:
        if self.dialect == "postgres":
            return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM')"
        return f"strftime('%Y-%m', {column})"


def _rank(column: str) -> str:
    whens = " ".join(f"WHEN '{stage.value}' THEN {n}" for stage, n in RANK.items())
    return f"CASE {column} {whens} ELSE -1 END"


def _db(field_name: str, value: Any) -> Any:
    return Lead._meta.fields_map[field_name].to_db_value(value, Lead)


BASE_COLUMNS = (
    "id", "stage", "source", "channel", "campaign_id", "created_at", "deal_value",
    "won_amount", "sql_at", "first_touch_at",
)  # fmt: skip


def _base(sql: _Sql, principal: Principal, chosen: FunnelFilter) -> str:
    """``WITH base AS (…)``: the leads in view, as the repository selects them (row scope,
    basis, filters), so the report enforces exactly what every list does."""
    repository = LeadRepository(principal)
    lead_filter = LeadFilter(
        created_from=chosen.created_from,
        created_to=chosen.created_to,
        team_id=chosen.team_id,
        owner_id=chosen.owner_id,
    )
    text, values = as_sql(repository.matching(lead_filter).values(*BASE_COLUMNS))
    sql.values.extend(values)
    return f"WITH base AS ({text})"


def _groups_sql(sql: _Sql, base: str) -> str:
    reached = ", ".join(
        f"SUM(CASE WHEN r.top >= {n} THEN 1 ELSE 0 END) AS r{n}" for n in range(len(FUNNEL))
    )
    opportunity = RANK[Stage.OPPORTUNITY]
    return (
        f"{base}, reached AS (SELECT x.lead_id, MAX(x.rnk) AS top FROM ("
        f"SELECT b.id AS lead_id, {_rank('b.stage')} AS rnk FROM base b UNION ALL "
        f"SELECT sc.lead_id, {_rank('sc.to_stage')} FROM stage_change sc "
        "JOIN base b ON b.id = sc.lead_id) x GROUP BY x.lead_id) "
        f"SELECT b.stage, b.source, b.channel, b.campaign_id, {sql.month('b.created_at')} "
        f"AS cohort, COUNT(*) AS n, {reached}, "
        f"SUM(CASE WHEN b.stage = 'disqualified' AND r.top >= {opportunity} THEN 1 ELSE 0 END) "
        "AS lost, "
        "SUM(CASE WHEN b.stage = 'customer' AND b.won_amount IS NOT NULL THEN 1 ELSE 0 END) "
        "AS won_n, "
        "SUM(CASE WHEN b.stage = 'customer' THEN b.won_amount ELSE 0 END) AS won_sum, "
        "SUM(CASE WHEN b.stage = 'opportunity' THEN b.deal_value ELSE 0 END) AS open_value "
        "FROM base b JOIN reached r ON r.lead_id = b.id "
        f"GROUP BY b.stage, b.source, b.channel, b.campaign_id, {sql.month('b.created_at')}"
    )


def _durations_sql(sql: _Sql, base: str) -> str:
    following = "LEAD(sc.changed_at) OVER (PARTITION BY sc.lead_id ORDER BY sc.changed_at, sc.id)"
    return (
        f"{base}, spans AS ("
        f"SELECT sc.to_stage AS metric, {sql.days('sc.changed_at', following)} AS days "
        "FROM stage_change sc JOIN base b ON b.id = sc.lead_id UNION ALL "
        f"SELECT 'sales_cycle', {sql.days('b.created_at', 'sc.changed_at')} "
        "FROM stage_change sc JOIN base b ON b.id = sc.lead_id WHERE sc.to_stage = 'customer' "
        f"UNION ALL SELECT 'speed_to_lead', {sql.days('b.sql_at', 'b.first_touch_at')} "
        "FROM base b WHERE b.sql_at IS NOT NULL AND b.first_touch_at IS NOT NULL), "
        "ranked AS (SELECT metric, days, "
        "ROW_NUMBER() OVER (PARTITION BY metric ORDER BY days) AS rn, "
        "COUNT(*) OVER (PARTITION BY metric) AS cnt FROM spans WHERE days IS NOT NULL) "
        "SELECT metric, COUNT(*) AS n, AVG(days) AS mean, "
        "AVG(CASE WHEN rn = (cnt + 1) / 2 OR rn = (cnt + 2) / 2 THEN days END) AS median "
        "FROM ranked GROUP BY metric"
    )


def _velocity_sql(sql: _Sql, base: str) -> str:
    qualified = ", ".join(f"'{s.value}'" for s in FUNNEL[RANK[Stage.MQL] :])
    return (
        f"{base}, firsts AS (SELECT sc.lead_id, MIN(sc.changed_at) AS at FROM stage_change sc "
        f"JOIN base b ON b.id = sc.lead_id WHERE sc.to_stage IN ({qualified}) "
        f"GROUP BY sc.lead_id) SELECT {sql.month('at')} AS month, COUNT(*) AS n FROM firsts "
        f"GROUP BY {sql.month('at')} ORDER BY 1"
    )


def _sla_sql(sql: _Sql, base: str, now: datetime) -> str:
    return (
        f"{base} SELECT COUNT(*) AS due, SUM(CASE WHEN t.completed_at IS NOT NULL AND "
        "t.completed_at <= t.due_at THEN 1 ELSE 0 END) AS met FROM task t "
        "JOIN base b ON b.id = t.lead_id WHERE t.kind = 'first_contact' AND "
        f"(t.completed_at IS NOT NULL OR t.due_at < {sql(_db('created_at', now))})"
    )


# ---------------------------------------------------------------------------------------
# results


@dataclass(frozen=True, slots=True)
class StageCount:
    stage: Stage
    leads: int | None


@dataclass(frozen=True, slots=True)
class Conversion:
    from_stage: Stage
    to_stage: Stage
    reached: int | None
    converted: int | None
    rate: float | None


@dataclass(frozen=True, slots=True)
class Duration:
    metric: str
    count: int | None
    mean_days: float | None
    median_days: float | None


@dataclass(frozen=True, slots=True)
class MonthCount:
    month: str
    qualified: int | None
    growth_rate: float | None


@dataclass(frozen=True, slots=True)
class Breakdown:
    key: str | None
    leads: int | None
    mqls: int | None
    sqls: int | None
    opportunities: int | None
    customers: int | None
    conversion_rate: float | None
    won_amount: Decimal | None


@dataclass(frozen=True, slots=True)
class CampaignCost:
    campaign_id: int
    name: str
    cost: Decimal
    leads: int | None
    customers: int | None
    cost_per_lead: Decimal | None
    acquisition_cost: Decimal | None


@dataclass(frozen=True, slots=True)
class Pipeline:
    open_opportunities: int | None
    open_value: Decimal | None
    customers: int | None
    lost_opportunities: int | None
    win_rate: float | None
    average_deal_value: Decimal | None
    sales_cycle_days: float | None
    velocity_per_day: Decimal | None
    won_total: Decimal | None
    customer_lifetime_value: Decimal | None


@dataclass(frozen=True, slots=True)
class Sla:
    due: int | None
    met: int | None
    compliance_rate: float | None


@dataclass(frozen=True, slots=True)
class FunnelReport:
    total_leads: int | None
    suppression_threshold: int | None
    stages: list[StageCount]
    conversions: list[Conversion]
    time_in_stage: list[Duration]
    sales_cycle: Duration
    speed_to_lead: Duration
    lead_velocity: list[MonthCount]
    pipeline: Pipeline
    by_source: list[Breakdown]
    by_channel: list[Breakdown]
    by_campaign: list[Breakdown]
    by_cohort: list[Breakdown]
    campaigns: list[CampaignCost]
    cost_per_lead: Decimal | None
    customer_acquisition_cost: Decimal | None
    sla: Sla


@dataclass(slots=True)
class _Totals:
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


class _Guard:
    """Applies small-cell suppression (or nothing, for roles that see personal data)."""

    def __init__(self, active: bool) -> None:
        self.active = active

    def small(self, count: int | None) -> bool:
        return self.active and count is not None and 0 < count < MIN_CELL

    def count(self, count: int) -> int | None:
        return None if self.small(count) else count

    def counts(self, total: int, parts: Sequence[int]) -> list[int | None]:
        """``parts`` of a shown ``total``: withheld small ones, and the next smallest too
        when a single withheld one could be worked out by subtraction."""
        shown: list[int | None] = [self.count(p) for p in parts]
        hidden = [n for n, v in enumerate(shown) if v is None]
        if len(hidden) == 1 and self.count(total) is not None:
            others = sorted((p, n) for n, p in enumerate(parts) if shown[n] is not None and p > 0)
            if others:
                shown[others[0][1]] = None
        return shown

    def ratio(self, top: int | Decimal, bottom: int, *counts: int) -> float | None:
        if bottom == 0 or any(self.small(c) for c in (bottom, *counts)):
            return None
        return float(top) / bottom


def _money(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(Decimal("0.01"))


def _divide(top: Decimal, bottom: int | float) -> Decimal | None:
    return _money(top / Decimal(str(bottom))) if bottom else None


def _breakdown(guard: _Guard, groups: dict[Any, _Totals], label: Any = str) -> list[Breakdown]:
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
    guard: _Guard, metric: str, row: dict[str, Any] | None, scale: float = 1.0
) -> Duration:
    if row is None:
        return Duration(metric, 0, None, None)
    n = int(row["n"])
    if guard.small(n):
        return Duration(metric, None, None, None)

    def scaled(value: Any) -> float | None:
        return None if value is None else round(float(value) * scale, 3)

    return Duration(metric, n, scaled(row["mean"]), scaled(row["median"]))


def aggregate_only(principal: Principal) -> bool:
    return Actor.of_role(principal.role) in AGGREGATE_ONLY and not principal.break_glass_active


async def funnel_report(principal: Principal, chosen: FunnelFilter, now: datetime) -> FunnelReport:
    db = connections.get("default")
    dialect = db.capabilities.dialect
    guard = _Guard(aggregate_only(principal))

    async def run(build: Any, *extra: Any) -> list[dict[str, Any]]:
        sql = _Sql(dialect)
        text = build(sql, _base(sql, principal, chosen), *extra)
        return list(await db.execute_query_dict(text, sql.values))

    group_rows = await run(_groups_sql)
    duration_rows = {str(r["metric"]): r for r in await run(_durations_sql)}
    month_rows = await run(_velocity_sql)
    sla_row = (await run(_sla_sql, now))[0]

    totals = _Totals()
    by_stage: dict[str, int] = defaultdict(int)
    dims: dict[str, dict[Any, _Totals]] = {
        name: defaultdict(_Totals) for name in ("source", "channel", "campaign_id", "cohort")
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

    velocity: list[MonthCount] = []
    previous: int | None = None
    for row in month_rows:
        n = int(row["n"])
        growth = (
            guard.ratio(n - previous, previous, n)
            if previous is not None and not guard.small(previous)
            else None
        )
        velocity.append(MonthCount(str(row["month"]), guard.count(n), growth))
        previous = n

    customers = totals.reached[RANK[Stage.CUSTOMER]]
    win_rate = guard.ratio(customers, customers + totals.lost, customers, totals.lost)
    average_deal = None if guard.small(totals.won_n) else _divide(totals.won_sum, totals.won_n)
    open_opps = guard.count(totals.open_opportunities)
    pipeline_velocity: Decimal | None = None
    if (
        open_opps is not None
        and win_rate is not None
        and average_deal is not None
        and cycle.mean_days
    ):
        pipeline_velocity = _money(
            Decimal(open_opps)
            * Decimal(str(win_rate))
            * average_deal
            / Decimal(str(cycle.mean_days))
        )
    pipeline = Pipeline(
        open_opportunities=open_opps,
        open_value=None if open_opps is None else _money(totals.open_value),
        customers=guard.count(customers),
        lost_opportunities=guard.count(totals.lost),
        win_rate=win_rate,
        average_deal_value=average_deal,
        sales_cycle_days=cycle.mean_days,
        velocity_per_day=pipeline_velocity,
        won_total=None if guard.small(totals.won_n) else _money(totals.won_sum),
        customer_lifetime_value=None
        if guard.small(customers)
        else _divide(totals.won_sum, customers),
    )

    campaigns, cpl, cac = await _campaign_costs(guard, dims["campaign_id"])
    names = {c.campaign_id: c.name for c in campaigns}
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
        campaigns=campaigns,
        cost_per_lead=cpl,
        customer_acquisition_cost=cac,
        sla=Sla(guard.count(due), guard.count(met), guard.ratio(met, due, met)),
    )


async def _campaign_costs(
    guard: _Guard, groups: dict[Any, _Totals]
) -> tuple[list[CampaignCost], Decimal | None, Decimal | None]:
    ids = [int(k) for k in groups if k is not None]
    rows = await Campaign.filter(id__in=ids).order_by("name") if ids else []
    result: list[CampaignCost] = []
    cost = Decimal(0)
    leads = customers = 0
    for campaign in rows:
        t = groups.get(campaign.id) or groups.get(str(campaign.id)) or _Totals()
        won = t.reached[RANK[Stage.CUSTOMER]]
        cost += campaign.cost
        leads += t.leads
        customers += won
        result.append(
            CampaignCost(
                campaign_id=campaign.id,
                name=campaign.name,
                cost=_money(campaign.cost) or Decimal(0),
                leads=guard.count(t.leads),
                customers=guard.count(won),
                cost_per_lead=None if guard.small(t.leads) else _divide(campaign.cost, t.leads),
                acquisition_cost=None if guard.small(won) else _divide(campaign.cost, won),
            )
        )
    return (
        result,
        None if guard.small(leads) else _divide(cost, leads),
        None if guard.small(customers) else _divide(cost, customers),
    )
