"""The funnel report over GraphQL (computed in SQL, see leads.funnel for every definition)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from leads import errors as domain
from leads import funnel
from schema.context import Context
from schema.enums import Stage
from schema.errors import ValidationErrors
from schema.ids import parse_int_id, parse_uuid

WITHHELD = "Null when withheld (under the suppression threshold) or undefined (nothing to divide)."


@strawberry.input(
    description="Roles that see no personal data may ask for one finished calendar quarter "
    "(UTC) at a time, with no team or owner: createdFrom its first instant, createdTo (if "
    "given) the next quarter's. Anything else is a ValidationErrors naming the field."
)
class FunnelFilter:
    created_from: datetime | None = strawberry.field(
        default=None, description="Leads created at or after (inclusive)."
    )
    created_to: datetime | None = strawberry.field(default=None, description="Exclusive.")
    team_id: strawberry.ID | None = None
    owner_id: strawberry.ID | None = None

    def to_domain(self) -> funnel.FunnelFilter:
        errors = []
        for name in ("created_from", "created_to"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                errors.append(domain.FieldError(name, "timezone_required", f"{name} needs a zone"))
        if (
            self.created_from is not None
            and self.created_to is not None
            and not errors
            and self.created_to <= self.created_from
        ):
            errors.append(
                domain.FieldError(
                    "created_to", "before_start", "created_to must be after created_from"
                )
            )
        if errors:
            raise domain.ValidationFailed(errors)
        return funnel.FunnelFilter(
            created_from=self.created_from,
            created_to=self.created_to,
            team_id=parse_int_id(self.team_id, "team_id") if self.team_id else None,
            owner_id=parse_uuid(self.owner_id, "owner_id") if self.owner_id else None,
        )


@strawberry.type(description="Leads now in a stage.")
class FunnelStage:
    stage: Stage
    leads: int | None = strawberry.field(description=WITHHELD)


@strawberry.type(description="Of the leads that reached a stage, how many reached the next.")
class StageConversion:
    from_stage: Stage
    to_stage: Stage
    reached: int | None = strawberry.field(description=WITHHELD)
    converted: int | None = strawberry.field(description=WITHHELD)
    rate: float | None = strawberry.field(description=WITHHELD)


@strawberry.type(
    description="A duration measured over several leads, in days (speed-to-lead: minutes)."
)
class DurationStats:
    metric: str
    count: int | None = strawberry.field(description=WITHHELD)
    mean: float | None = strawberry.field(description=WITHHELD)
    median: float | None = strawberry.field(description=WITHHELD)

    @classmethod
    def of(cls, d: funnel.Duration) -> DurationStats:
        return cls(metric=d.metric, count=d.count, mean=d.mean_days, median=d.median_days)


@strawberry.type(description="Leads first qualified (MQL or beyond) in a month.")
class LeadVelocityMonth:
    month: str = strawberry.field(description="YYYY-MM, UTC.")
    qualified: int | None = strawberry.field(description=WITHHELD)
    growth_rate: float | None = strawberry.field(
        description="(this month − the calendar month before) ÷ the calendar month before. "
        "Null for the first month listed, after a month with no qualified lead, and for a "
        "partial month. " + WITHHELD
    )
    partial: bool = strawberry.field(
        description="The month is still under way: its count is so far, and it has no "
        "growth rate (a few days are never compared with a whole month)."
    )


@strawberry.type(description="Funnel counts for one source, channel, campaign or cohort.")
class FunnelBreakdown:
    key: str | None = strawberry.field(description="Null: not set on the lead.")
    leads: int | None = strawberry.field(description=WITHHELD)
    mqls: int | None
    sqls: int | None
    opportunities: int | None
    customers: int | None
    conversion_rate: float | None = strawberry.field(description="Customers ÷ leads.")
    won_amount: Decimal | None

    @classmethod
    def of(cls, b: funnel.Breakdown) -> FunnelBreakdown:
        return cls(
            key=b.key,
            leads=b.leads,
            mqls=b.mqls,
            sqls=b.sqls,
            opportunities=b.opportunities,
            customers=b.customers,
            conversion_rate=b.conversion_rate,
            won_amount=b.won_amount,
        )


@strawberry.type(description="A campaign's cost against the leads and customers it brought.")
class CampaignCostRow:
    campaign_id: strawberry.ID
    name: str
    cost: Decimal = strawberry.field(description="The campaign's whole cost.")
    charged_cost: Decimal | None = strawberry.field(
        description="The part charged to this view: cost × its leads in view ÷ all its leads "
        "(the whole cost on an unfiltered view). Withheld with the campaign's leads."
    )
    leads: int | None = strawberry.field(description=WITHHELD)
    customers: int | None = strawberry.field(
        description="Withheld with the campaign's leads. " + WITHHELD
    )
    cost_per_lead: Decimal | None = strawberry.field(description="Charged cost ÷ leads in view.")
    acquisition_cost: Decimal | None = strawberry.field(
        description="Charged cost ÷ its customers in view."
    )


@strawberry.type(description="Pipeline value and speed.")
class PipelineStats:
    open_opportunities: int | None
    open_value: Decimal | None = strawberry.field(description="Deal values of open opportunities.")
    customers: int | None
    lost_opportunities: int | None
    win_rate: float | None = strawberry.field(description="Customers ÷ (customers + lost).")
    average_deal_value: Decimal | None = strawberry.field(description="Mean won amount.")
    sales_cycle_days: float | None = strawberry.field(description="Mean days created → customer.")
    opportunity_cycle_days: float | None = strawberry.field(
        description="Mean days from first reaching opportunity to customer, over won leads."
    )
    velocity_per_day: Decimal | None = strawberry.field(
        description="Open opportunities × win rate × average deal value ÷ opportunity-cycle "
        "days (the unrounded mean)."
    )
    won_total: Decimal | None
    won_per_customer: Decimal | None = strawberry.field(
        description="Total won amount ÷ customers (not a lifetime value: there is no repeat "
        "deal history)."
    )


@strawberry.type(description="First contact with new SQLs within the SLA.")
class SlaStats:
    due: int | None = strawberry.field(description="First-contact tasks due so far.")
    met: int | None = strawberry.field(description="Of those, done by their due time.")
    compliance_rate: float | None


@strawberry.type(description="How the funnel converts, computed in SQL over the leads in view.")
class FunnelReport:
    total_leads: int | None
    suppression_threshold: int | None = strawberry.field(
        description="Cells under this many leads are withheld (roles that see no personal "
        "data), with enough others that none can be worked out from the totals; null when "
        "nothing is withheld."
    )
    created_from: datetime | None = strawberry.field(
        description="The view's creation range as applied, inclusive. Roles that see no "
        "personal data get one finished calendar quarter (UTC): the last one by default."
    )
    created_to: datetime | None = strawberry.field(description="Exclusive.")
    stages: list[FunnelStage]
    conversions: list[StageConversion]
    time_in_stage: list[DurationStats] = strawberry.field(description="Days per stage.")
    sales_cycle: DurationStats = strawberry.field(description="Days from created to customer.")
    speed_to_lead: DurationStats = strawberry.field(
        description="Minutes from becoming an SQL to the first human touch."
    )
    lead_velocity: list[LeadVelocityMonth]
    pipeline: PipelineStats
    by_source: list[FunnelBreakdown]
    by_channel: list[FunnelBreakdown]
    by_campaign: list[FunnelBreakdown]
    by_cohort: list[FunnelBreakdown] = strawberry.field(description="By month created (UTC).")
    campaigns: list[CampaignCostRow]
    cost_per_lead: Decimal | None = strawberry.field(
        description="Charged campaign cost ÷ leads attributed to a campaign in view."
    )
    customer_acquisition_cost: Decimal | None = strawberry.field(
        description="Attributed: charged campaign cost ÷ customers attributed to a campaign."
    )
    blended_acquisition_cost: Decimal | None = strawberry.field(
        description="Blended: charged campaign cost ÷ every customer in view."
    )
    sla: SlaStats

    @classmethod
    def of(cls, r: funnel.FunnelReport) -> FunnelReport:
        p = r.pipeline
        return cls(
            total_leads=r.total_leads,
            suppression_threshold=r.suppression_threshold,
            created_from=r.created_from,
            created_to=r.created_to,
            stages=[FunnelStage(stage=s.stage, leads=s.leads) for s in r.stages],
            conversions=[
                StageConversion(
                    from_stage=c.from_stage,
                    to_stage=c.to_stage,
                    reached=c.reached,
                    converted=c.converted,
                    rate=c.rate,
                )
                for c in r.conversions
            ],
            time_in_stage=[DurationStats.of(d) for d in r.time_in_stage],
            sales_cycle=DurationStats.of(r.sales_cycle),
            speed_to_lead=DurationStats.of(r.speed_to_lead),
            lead_velocity=[
                LeadVelocityMonth(
                    month=m.month,
                    qualified=m.qualified,
                    growth_rate=m.growth_rate,
                    partial=m.partial,
                )
                for m in r.lead_velocity
            ],
            pipeline=PipelineStats(
                open_opportunities=p.open_opportunities,
                open_value=p.open_value,
                customers=p.customers,
                lost_opportunities=p.lost_opportunities,
                win_rate=p.win_rate,
                average_deal_value=p.average_deal_value,
                sales_cycle_days=p.sales_cycle_days,
                opportunity_cycle_days=p.opportunity_cycle_days,
                velocity_per_day=p.velocity_per_day,
                won_total=p.won_total,
                won_per_customer=p.won_per_customer,
            ),
            by_source=[FunnelBreakdown.of(b) for b in r.by_source],
            by_channel=[FunnelBreakdown.of(b) for b in r.by_channel],
            by_campaign=[FunnelBreakdown.of(b) for b in r.by_campaign],
            by_cohort=[FunnelBreakdown.of(b) for b in r.by_cohort],
            campaigns=[
                CampaignCostRow(
                    campaign_id=strawberry.ID(str(c.campaign_id)),
                    name=c.name,
                    charged_cost=c.charged_cost,
                    cost=c.cost,
                    leads=c.leads,
                    customers=c.customers,
                    cost_per_lead=c.cost_per_lead,
                    acquisition_cost=c.acquisition_cost,
                )
                for c in r.campaigns
            ],
            cost_per_lead=r.cost_per_lead,
            customer_acquisition_cost=r.customer_acquisition_cost,
            blended_acquisition_cost=r.blended_acquisition_cost,
            sla=SlaStats(due=r.sla.due, met=r.sla.met, compliance_rate=r.sla.compliance_rate),
        )


FunnelResult = Annotated[FunnelReport | ValidationErrors, strawberry.union("FunnelResult")]


@strawberry.type
class FunnelQueries:
    @strawberry.field(
        description="Funnel analytics over the leads you may see: counts, conversion, time in "
        "stage, velocity, pipeline, breakdowns, costs and SLA compliance."
    )
    async def funnel(
        self, info: strawberry.Info[Context], filter: FunnelFilter | None = None
    ) -> FunnelResult:
        try:
            chosen = (filter or FunnelFilter()).to_domain()
        except domain.ValidationFailed as failure:
            return ValidationErrors.of(failure)
        try:
            report = await funnel.funnel_report(info.context.principal, chosen, datetime.now(UTC))
        except domain.ValidationFailed as failure:
            return ValidationErrors.of(failure)
        return FunnelReport.of(report)
