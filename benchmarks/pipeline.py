"""Funnel report and rescoring at scale (default: 1,000,000 leads, 5,000,000 activities).

Builds the data set straight into the tables (leads with stage histories, deal values, won
amounts, campaigns, first-contact tasks, profiling and analytics bases, activities; ids made
the way the product makes them, ``core.ids.new_id``), then:

- the full funnel report (``leads.funnel.funnel_report`` as a marketer, every metric) against
  the same figures computed by hand-written SQL in the same run, one plain statement per
  figure family; the two are checked to agree before the ratio is printed (target ≤ 1.5×);
- a rescoring run of every lead under the published model, end to end: read facts and
  activities, evaluate, write scores, history, explanations and threshold advances
  (target ≥ 10,000 leads/s on SQLite).

    .venv/bin/python -m benchmarks.pipeline [--leads N] [--database-url URL] [--skip-rescore]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from tortoise import connections

from benchmarks.setup import open_database
from compliance.consent.models import ConsentState
from compliance.consent.purposes import ANALYTICS, PROFILING
from core.bulk import insert_rows
from core.ids import new_id
from crypto.vault import current_vault
from identity.principal import Principal
from identity.roles import Role
from leads.enums import (
    ActivityType,
    Authority,
    Budget,
    Channel,
    CompanySize,
    Need,
    Seniority,
    Source,
    Stage,
    Status,
    Timeline,
)
from leads.funnel import FunnelFilter, funnel_report, periods
from leads.models import Activity, Campaign, Lead, StageChange, Task, TaskKind
from server.db import close_db

START = datetime(2025, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 1, tzinfo=UTC)
CHUNK = 20_000
LEAD_COLUMNS = (
    "id", "seniority", "company_size", "country", "source", "channel", "campaign_id",
    "budget", "authority", "need", "timeline", "stage", "status", "stage_entered_at",
    "score", "fit_score", "engagement_score", "score_breakdown", "deal_value", "won_amount",
    "sql_at", "first_touch_at", "created_at", "updated_at", "last_engaged_at",
)  # fmt: skip
PATH = (Stage.LEAD, Stage.MQL, Stage.SQL, Stage.OPPORTUNITY, Stage.CUSTOMER)
ENGAGING = (
    ActivityType.PAGE_VIEW, ActivityType.PAGE_VIEW, ActivityType.EMAIL_OPEN,
    ActivityType.EMAIL_CLICK, ActivityType.PRICING_PAGE_VIEW, ActivityType.FEATURE_PAGE_VIEW,
    ActivityType.CONTENT_DOWNLOAD, ActivityType.WEBINAR_ATTENDED, ActivityType.DEMO_REQUEST,
    ActivityType.TRIAL_SIGNUP, ActivityType.UNSUBSCRIBE, ActivityType.EMAIL_BOUNCE,
)  # fmt: skip


async def build(leads: int, per_lead: int, seed: int = 5) -> dict[str, int]:
    """Write the data set (each lead with its subject key); returns row counts."""
    rng = random.Random(seed)
    channels = list(Channel)
    campaigns = []
    for n in range(40):
        campaigns.append(
            await Campaign.create(
                name=f"Campaign {n}",
                channel=channels[n % len(channels)],
                cost=Decimal(rng.randrange(500, 50_000)),
                starts_on=(START + timedelta(days=15 * n)).date(),
            )
        )
    counts = dict.fromkeys(("leads", "activities", "stage_changes", "tasks", "bases"), 0)
    span = (NOW - START).total_seconds()
    for first in range(0, leads, CHUNK):
        lead_rows: list[list[Any]] = []
        changes: list[list[Any]] = []
        tasks: list[list[Any]] = []
        bases: list[list[Any]] = []
        activities: list[list[Any]] = []
        for _ in range(min(CHUNK, leads - first)):
            lead_id = new_id()
            created = START + timedelta(seconds=rng.random() * span * 0.97)
            depth = min(4, int(rng.expovariate(0.9)))  # most stay early in the funnel
            moment = created
            changes.append([new_id(), lead_id, None, Stage.LEAD, created])
            sql_at = first_touch = None
            for stage in PATH[1 : depth + 1]:
                moment = min(NOW, moment + timedelta(hours=rng.uniform(2, 24 * 20)))
                changes.append([new_id(), lead_id, None, stage, moment])
                if stage is Stage.SQL:
                    sql_at = moment
                    touched = rng.random() < 0.85
                    first_touch = moment + timedelta(minutes=rng.uniform(5, 180))
                    tasks.append(
                        [new_id(), lead_id, TaskKind.FIRST_CONTACT, 0,
                         moment + timedelta(hours=1), first_touch if touched else None, moment]
                    )  # fmt: skip
                    first_touch = first_touch if touched else None
            stage = PATH[depth]
            status = Status.CONVERTED if stage is Stage.CUSTOMER else Status.OPEN
            if depth >= 1 and rng.random() < 0.1:
                moment = min(NOW, moment + timedelta(days=rng.uniform(1, 30)))
                changes.append([new_id(), lead_id, None, Stage.DISQUALIFIED, moment])
                stage, status = Stage.DISQUALIFIED, Status.COLD
            deal = Decimal(rng.randrange(1_000, 80_000)) if depth >= 3 else None
            won = deal if stage is Stage.CUSTOMER else None
            campaign = rng.choice(campaigns) if rng.random() < 0.6 else None
            lead_rows.append(
                [lead_id, rng.choice(list(Seniority)), rng.choice(list(CompanySize)),
                 rng.choice(["DE", "GB", "FR", "US", "NL", "BR", "JP"]), rng.choice(list(Source)),
                 campaign.channel if campaign else None, campaign.id if campaign else None,
                 rng.choice(list(Budget)), Authority.UNKNOWN, Need.UNKNOWN, Timeline.UNKNOWN,
                 stage, status, moment, 0, 0, 0, [], deal, won, sql_at, first_touch, created,
                 moment, None]
            )  # fmt: skip
            for purpose in (PROFILING, ANALYTICS):
                bases.append(
                    [lead_id, purpose, "granted", "legitimate_interest", "staff", created, 0]
                )
            for _ in range(per_lead):
                at = created + timedelta(seconds=rng.random() * (NOW - created).total_seconds())
                activities.append([lead_id, rng.choice(ENGAGING), at, {}, at])
        await current_vault().subject_keys([row[0] for row in lead_rows], create=True)
        await insert_rows(Lead, LEAD_COLUMNS, lead_rows)
        await insert_rows(
            StageChange, ("id", "lead_id", "from_stage", "to_stage", "changed_at"), changes
        )
        await insert_rows(
            Task,
            ("id", "lead_id", "kind", "step", "due_at", "completed_at", "created_at"),
            tasks,
        )
        await insert_rows(
            ConsentState,
            ("lead_id", "purpose", "status", "basis", "source", "since", "event_id"),
            bases,
        )
        await insert_rows(
            Activity, ("lead_id", "type", "occurred_at", "details", "created_at"), activities
        )
        counts["leads"] += len(lead_rows)
        counts["stage_changes"] += len(changes)
        counts["tasks"] += len(tasks)
        counts["bases"] += len(bases)
        counts["activities"] += len(activities)
    await connections.get("default").execute_script("ANALYZE")
    return counts


RANK_SQL = (
    "CASE {c} WHEN 'subscriber' THEN 0 WHEN 'lead' THEN 1 WHEN 'mql' THEN 2 WHEN 'sql' THEN 3 "
    "WHEN 'opportunity' THEN 4 WHEN 'customer' THEN 5 ELSE -1 END"
)


TABLE = re.compile(r"\b(FROM|JOIN) (lead|stage_change|task)( [a-z])?(?=[\s)])")


def in_period(statements: list[str], start: datetime, end: datetime) -> list[str]:
    """The same statements over the leads created in [start, end) and their rows only."""
    window = f"w.created_at >= '{start}' AND w.created_at < '{end}'"
    subqueries = {
        "lead": f"(SELECT * FROM lead w WHERE {window})",
        "stage_change": "(SELECT s.* FROM stage_change s JOIN lead w ON w.id = s.lead_id "
        f"WHERE {window})",
        "task": f"(SELECT t.* FROM task t JOIN lead w ON w.id = t.lead_id WHERE {window})",
    }

    def narrowed(match: re.Match[str]) -> str:
        alias = match.group(3) or f" {match.group(2)[0]}v"
        return f"{match.group(1)} {subqueries[match.group(2)]}{alias}"

    return [TABLE.sub(narrowed, text) for text in statements]


def hand_written(dialect: str, now: datetime) -> list[str]:
    """The report's figures as plain SQL, one statement per family (no Python layer)."""
    pg = dialect == "postgres"

    def days(a: str, b: str) -> str:
        if pg:
            return f"EXTRACT(EPOCH FROM ({b} - {a})) / 86400.0"
        return f"julianday({b}) - julianday({a})"

    def month(c: str) -> str:
        return f"to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM')" if pg else f"strftime('%Y-%m', {c})"

    literal = f"'{now}'"  # the text form SQLite stores (and PostgreSQL reads)
    top = (
        "SELECT lead_id, MAX(rnk) AS top FROM (SELECT id AS lead_id, "
        + RANK_SQL.format(c="stage")
        + " AS rnk FROM lead UNION ALL SELECT lead_id, "
        + RANK_SQL.format(c="to_stage")
        + " FROM stage_change) x GROUP BY lead_id"
    )
    reached = ", ".join(f"SUM(CASE WHEN r.top >= {k} THEN 1 ELSE 0 END)" for k in range(6))
    breakdown = (
        "SELECT l.{d}, COUNT(*), " + reached + ", SUM(CASE WHEN l.stage = 'customer' "
        "THEN l.won_amount ELSE 0 END) FROM lead l JOIN (" + top + ") r ON r.lead_id = l.id "
        "GROUP BY l.{d}"
    )
    following = "LEAD(changed_at) OVER (PARTITION BY lead_id ORDER BY changed_at, id)"
    return [
        "SELECT stage, COUNT(*) FROM lead GROUP BY stage",
        f"SELECT {reached} FROM ({top}) r",
        breakdown.format(d="source"),
        breakdown.format(d="channel"),
        breakdown.format(d="campaign_id"),
        "SELECT "
        + month("l.created_at")
        + ", COUNT(*), "
        + reached
        + " FROM lead l JOIN ("
        + top
        + ") r ON r.lead_id = l.id GROUP BY "
        + month("l.created_at"),
        "WITH s AS (SELECT to_stage AS m, " + days("changed_at", following) + " AS d FROM "
        "stage_change UNION ALL SELECT 'cycle', "
        + days("l.created_at", "c.changed_at")
        + " FROM stage_change c JOIN lead l ON l.id = c.lead_id WHERE c.to_stage = 'customer' "
        "UNION ALL SELECT 'opportunity_cycle', "
        + days("o.opp", "o.won")
        + " FROM (SELECT lead_id, MIN(CASE WHEN to_stage = 'opportunity' THEN changed_at END) "
        "AS opp, MIN(CASE WHEN to_stage = 'customer' THEN changed_at END) AS won FROM "
        "stage_change WHERE to_stage IN ('opportunity', 'customer') GROUP BY lead_id) o "
        "WHERE o.opp IS NOT NULL AND o.won IS NOT NULL "
        "UNION ALL SELECT 'speed', " + days("sql_at", "first_touch_at") + " FROM lead WHERE "
        "sql_at IS NOT NULL AND first_touch_at IS NOT NULL), o AS (SELECT m, d, ROW_NUMBER() "
        "OVER (PARTITION BY m ORDER BY d) AS rn, COUNT(*) OVER (PARTITION BY m) AS n FROM s "
        "WHERE d IS NOT NULL) SELECT m, COUNT(*), AVG(d), AVG(CASE WHEN rn IN ((n + 1) / 2, "
        "(n + 2) / 2) THEN d END) FROM o GROUP BY m",
        "SELECT " + month("f") + ", COUNT(*) FROM (SELECT lead_id, MIN(changed_at) AS f FROM "
        "stage_change WHERE to_stage IN ('mql', 'sql', 'opportunity', 'customer') GROUP BY "
        "lead_id) q GROUP BY " + month("f"),
        "SELECT SUM(CASE WHEN l.stage = 'opportunity' THEN 1 ELSE 0 END), SUM(CASE WHEN "
        "l.stage = 'opportunity' THEN l.deal_value ELSE 0 END), SUM(CASE WHEN l.stage = "
        "'customer' THEN 1 ELSE 0 END), SUM(CASE WHEN l.stage = 'customer' THEN l.won_amount "
        "ELSE 0 END), SUM(CASE WHEN l.stage = 'disqualified' AND r.top >= 4 THEN 1 ELSE 0 END) "
        "FROM lead l JOIN (" + top + ") r ON r.lead_id = l.id",
        "SELECT c.id, c.cost, COUNT(l.id), SUM(CASE WHEN l.stage = 'customer' THEN 1 ELSE 0 END) "
        "FROM campaign c JOIN lead l ON l.campaign_id = c.id GROUP BY c.id, c.cost",
        "SELECT COUNT(*), SUM(CASE WHEN completed_at IS NOT NULL AND completed_at <= due_at "
        "THEN 1 ELSE 0 END) FROM task WHERE kind = 'first_contact' AND (completed_at IS NOT "
        f"NULL OR due_at < {literal})",
    ]


async def timed(job: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = await job()
    return time.perf_counter() - started, result


async def main(leads: int, per_lead: int, database_url: str | None, rescore: bool) -> None:
    settings = await open_database(database_url)
    try:
        db = connections.get("default")
        dialect = db.capabilities.dialect
        took, counts = await timed(lambda: build(leads, per_lead))
        print(f"database:               {settings.database_label}")
        print(
            f"data set:               {counts['leads']:,} leads, {counts['activities']:,} "
            f"activities, {counts['stage_changes']:,} stage changes, {counts['tasks']:,} "
            f"tasks (built in {took:.0f} s)"
        )
        marketer = Principal(role=Role.MARKETER)
        statements = hand_written(dialect, NOW)

        async def baseline() -> list[Any]:
            return [await db.execute_query(s) for s in statements]

        async def report() -> Any:
            return await funnel_report(marketer, FunnelFilter(), NOW)

        await report()  # warm the page cache for both
        runs = 3
        ours = base = float("inf")
        result: Any = None
        raw: Any = None
        for _ in range(runs):
            t, result = await timed(report)
            ours = min(ours, t)
            t, raw = await timed(baseline)
            base = min(base, t)
        stage_rows = {row[0]: row[1] for row in raw[0][1]}
        assert result.total_leads == sum(stage_rows.values()), "totals differ"
        for entry in result.stages:
            assert entry.leads == stage_rows.get(entry.stage.value, 0), entry.stage
        reached = list(raw[1][1][0])
        assert [c.reached for c in result.conversions] == reached[1:5], "conversions differ"
        assert (result.sla.due, result.sla.met) == tuple(raw[-1][1][0]), "SLA differs"
        spans = next(i for i, text in enumerate(statements) if "'opportunity_cycle'" in text)
        cycle = next(row for row in raw[spans][1] if row[0] == "opportunity_cycle")
        assert result.pipeline.opportunity_cycle_days == round(float(cycle[2]), 3), "cycle"
        print(
            "funnel report agrees with the hand-written SQL "
            "(totals, stages, reach, SLA, opportunity cycle)"
        )
        print(f"funnel report:          {ours:.2f} s (best of {runs})")
        print(
            f"hand-written SQL:       {base:.2f} s ({len(statements)} statements, best of {runs})"
        )
        print(f"report / hand SQL:      {ours / base:.2f}x (target: at most 1.5x)")
        await disclosure_controlled(statements)
        if rescore:
            await rescoring(leads)
    finally:
        await close_db()


async def disclosure_controlled(statements: list[str]) -> None:
    """The analyst's report (disclosure control on: quarter views, complementary cells) for
    every finished quarter of the data set, against the hand-written SQL over each quarter."""
    db = connections.get("default")
    analyst = Principal(role=Role.ANALYST)
    ours = base = 0.0
    covered = 0
    quarter = periods.quarter_of(START)
    while periods.shift(quarter, 1) <= periods.quarter_of(NOW):
        chosen = FunnelFilter(created_from=quarter)
        narrowed = in_period(statements, quarter, periods.shift(quarter, 1))
        t, result = await timed(lambda: funnel_report(analyst, chosen, NOW))  # noqa: B023
        ours += t
        t, raw = await timed(lambda: gather(db, narrowed))  # noqa: B023
        base += t
        stage_rows = {row[0]: row[1] for row in raw[0][1]}
        assert result.total_leads == sum(stage_rows.values()), periods.label(quarter)
        for entry in result.stages:
            if entry.leads is not None:
                assert entry.leads == stage_rows.get(entry.stage.value, 0), entry.stage
        covered += result.total_leads or 0
        quarter = periods.shift(quarter, 1)
    print(
        f"analyst, every quarter:  {ours:.2f} s for {covered:,} leads (disclosure control on; "
        f"totals and shown stages agree)"
    )
    print(f"hand-written SQL:       {base:.2f} s (the same statements, each quarter)")
    print(f"report / hand SQL:      {ours / base:.2f}x (target: at most 1.0x)")


async def gather(db: Any, statements: list[str]) -> list[Any]:
    return [await db.execute_query(s) for s in statements]


async def rescoring(leads: int) -> None:
    from leads.scoring import runs, service

    version, _ = await service.published_model()
    run = await runs.start_decay_run(NOW)
    took, done = await timed(lambda: runs.run_pending(run_id=run.id, now=lambda: NOW))
    print(
        f"rescoring run:          {done.processed:,} leads in {took:.1f} s "
        f"({done.processed / took:,.0f} leads/s; {done.changed:,} scores written, "
        f"{done.advanced:,} moved forward; model v{version}; target: 10,000 leads/s on SQLite)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--activities-per-lead", type=int, default=5)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--skip-rescore", action="store_true")
    args = parser.parse_args()
    asyncio.run(
        main(args.leads, args.activities_per_lead, args.database_url, not args.skip_rescore)
    )
