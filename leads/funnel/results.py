"""What the funnel report answers with. A value withheld by small-cell suppression is None."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from leads.enums import Stage


@dataclass(frozen=True, slots=True)
class FunnelFilter:
    created_from: datetime | None = None
    created_to: datetime | None = None
    team_id: int | None = None
    owner_id: uuid.UUID | None = None


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
    partial: bool = False
    """The month is still under way (it holds the report's time)."""


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
    charged_cost: Decimal | None
    """The part of the cost charged to the view: cost × its leads in view ÷ all its leads
    (withheld with the leads, since it gives their share away)."""
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
    opportunity_cycle_days: float | None
    velocity_per_day: Decimal | None
    won_total: Decimal | None
    won_per_customer: Decimal | None


@dataclass(frozen=True, slots=True)
class Sla:
    due: int | None
    met: int | None
    compliance_rate: float | None


@dataclass(frozen=True, slots=True)
class FunnelReport:
    total_leads: int | None
    suppression_threshold: int | None
    created_from: datetime | None
    """The view's creation range as applied (for roles that see no personal data, the
    quarter :func:`leads.funnel.periods.aggregate_view` chose)."""
    created_to: datetime | None
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
    blended_acquisition_cost: Decimal | None
    sla: Sla
