# ruff: noqa: S608 - the SQL below is built from fixed fragments; every value is bound as a parameter
"""The four statements of the funnel report, each one pass over the leads in view, built on
the repository's own query for them (row scope, basis, filters)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.bulk import as_sql
from identity.principal import Principal
from leads.enums import Stage
from leads.funnel.results import FunnelFilter
from leads.lifecycle import FUNNEL, RANK
from leads.models import Lead
from leads.repository import LeadFilter, LeadRepository


class Sql:
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


def rank(column: str) -> str:
    whens = " ".join(f"WHEN '{stage.value}' THEN {n}" for stage, n in RANK.items())
    return f"CASE {column} {whens} ELSE -1 END"


def db_value(field_name: str, value: Any) -> Any:
    return Lead._meta.fields_map[field_name].to_db_value(value, Lead)


BASE_COLUMNS = (
    "id", "stage", "source", "channel", "campaign_id", "created_at", "deal_value",
    "won_amount", "sql_at", "first_touch_at",
)  # fmt: skip


def base_sql(sql: Sql, principal: Principal, chosen: FunnelFilter) -> str:
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


def groups_sql(sql: Sql, base: str) -> str:
    reached = ", ".join(
        f"SUM(CASE WHEN r.top >= {n} THEN 1 ELSE 0 END) AS r{n}" for n in range(len(FUNNEL))
    )
    opportunity = RANK[Stage.OPPORTUNITY]
    return (
        f"{base}, reached AS (SELECT x.lead_id, MAX(x.rnk) AS top FROM ("
        f"SELECT b.id AS lead_id, {rank('b.stage')} AS rnk FROM base b UNION ALL "
        f"SELECT sc.lead_id, {rank('sc.to_stage')} FROM stage_change sc "
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


def durations_sql(sql: Sql, base: str) -> str:
    following = "LEAD(sc.changed_at) OVER (PARTITION BY sc.lead_id ORDER BY sc.changed_at, sc.id)"
    return (
        f"{base}, spans AS ("
        f"SELECT sc.to_stage AS metric, {sql.days('sc.changed_at', following)} AS days "
        "FROM stage_change sc JOIN base b ON b.id = sc.lead_id UNION ALL "
        f"SELECT 'sales_cycle', {sql.days('b.created_at', 'sc.changed_at')} "
        "FROM stage_change sc JOIN base b ON b.id = sc.lead_id WHERE sc.to_stage = 'customer' "
        f"UNION ALL SELECT 'opportunity_cycle', {sql.days('o.opp', 'o.won')} FROM (SELECT "
        "sc.lead_id, MIN(CASE WHEN sc.to_stage = 'opportunity' THEN sc.changed_at END) AS opp, "
        "MIN(CASE WHEN sc.to_stage = 'customer' THEN sc.changed_at END) AS won "
        "FROM stage_change sc JOIN base b ON b.id = sc.lead_id "
        "WHERE sc.to_stage IN ('opportunity', 'customer') GROUP BY sc.lead_id) o "
        "WHERE o.opp IS NOT NULL AND o.won IS NOT NULL "
        f"UNION ALL SELECT 'speed_to_lead', {sql.days('b.sql_at', 'b.first_touch_at')} "
        "FROM base b WHERE b.sql_at IS NOT NULL AND b.first_touch_at IS NOT NULL), "
        "ranked AS (SELECT metric, days, "
        "ROW_NUMBER() OVER (PARTITION BY metric ORDER BY days) AS rn, "
        "COUNT(*) OVER (PARTITION BY metric) AS cnt FROM spans WHERE days IS NOT NULL) "
        "SELECT metric, COUNT(*) AS n, AVG(days) AS mean, "
        "AVG(CASE WHEN rn = (cnt + 1) / 2 OR rn = (cnt + 2) / 2 THEN days END) AS median "
        "FROM ranked GROUP BY metric"
    )


def velocity_sql(sql: Sql, base: str) -> str:
    qualified = ", ".join(f"'{s.value}'" for s in FUNNEL[RANK[Stage.MQL] :])
    return (
        f"{base}, firsts AS (SELECT sc.lead_id, MIN(sc.changed_at) AS at FROM stage_change sc "
        f"JOIN base b ON b.id = sc.lead_id WHERE sc.to_stage IN ({qualified}) "
        f"GROUP BY sc.lead_id) SELECT {sql.month('at')} AS month, COUNT(*) AS n FROM firsts "
        f"GROUP BY {sql.month('at')} ORDER BY 1"
    )


def sla_sql(sql: Sql, base: str, now: datetime) -> str:
    return (
        f"{base} SELECT COUNT(*) AS due, SUM(CASE WHEN t.completed_at IS NOT NULL AND "
        "t.completed_at <= t.due_at THEN 1 ELSE 0 END) AS met FROM task t "
        "JOIN base b ON b.id = t.lead_id WHERE t.kind = 'first_contact' AND "
        f"(t.completed_at IS NOT NULL OR t.due_at < {sql(db_value('created_at', now))})"
    )
