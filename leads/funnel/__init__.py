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

Definitions are in :mod:`leads.funnel.report`. Disclosure control for roles that see no
personal data: the views they may ask for in :mod:`leads.funnel.periods`, small cells and
their complementary cells in :mod:`leads.funnel.suppression`, applied table by table in
:mod:`leads.funnel.tables`.
"""

from leads.funnel.report import funnel_report
from leads.funnel.results import (
    Breakdown,
    CampaignCost,
    Conversion,
    Duration,
    FunnelFilter,
    FunnelReport,
    MonthCount,
    Pipeline,
    Sla,
    StageCount,
)
from leads.funnel.suppression import MIN_CELL, aggregate_only

__all__ = [
    "MIN_CELL",
    "Breakdown",
    "CampaignCost",
    "Conversion",
    "Duration",
    "FunnelFilter",
    "FunnelReport",
    "MonthCount",
    "Pipeline",
    "Sla",
    "StageCount",
    "aggregate_only",
    "funnel_report",
]
