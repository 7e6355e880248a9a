"""Campaign costs charged to a funnel view, and what they cost per lead and per customer.

A view filtered by team, owner or date holds only part of a campaign's leads, so it is
charged only that part of the campaign's cost: cost × the campaign's leads in view ÷ all
its leads. An unfiltered view is charged every campaign in full, those that brought no lead
at all included (their spend bought nothing, and the blended figure says so).

- cost per lead = charged cost ÷ attributed leads in view;
- attributed acquisition cost = charged cost ÷ customers attributed to a campaign;
- blended acquisition cost = all charged cost ÷ every customer in view, attributed or not.

Withheld cells (:mod:`leads.funnel.suppression`) follow the campaign breakdown's tables: a
campaign whose leads in view are withheld has its charged cost (cost × a share of its leads),
customers, cost per lead and acquisition cost withheld too; one whose customers are withheld
has its acquisition cost withheld. The campaigns' own totals are protected as a table (the
blended cost gives the charged total away, and with it the attributed leads and customers
behind cost per lead and acquisition cost), and when the leads or customers of no campaign
are withheld, cost per lead or attributed acquisition cost is withheld: otherwise it would
give away the attributed total, and with it the withheld count of leads without a campaign.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tortoise.expressions import RawSQL

from leads.funnel.results import CampaignCost, FunnelFilter
from leads.funnel.suppression import Guard, Withheld
from leads.funnel.tables import cents
from leads.models import Campaign

ALL_LEADS = RawSQL('(SELECT COUNT(*) FROM "lead" WHERE "lead"."campaign_id" = "campaign"."id")')
"""Every lead of the campaign, whoever may see it: counted through ``lead_campaign_idx``."""


@dataclass(frozen=True, slots=True)
class Spend:
    campaigns: list[CampaignCost]
    cost_per_lead: Decimal | None
    attributed_acquisition_cost: Decimal | None
    blended_acquisition_cost: Decimal | None


def _per(top: Decimal, bottom: int, guard: Guard) -> Decimal | None:
    return None if not bottom or guard.small(bottom) else cents(top / bottom)


async def campaign_spend(
    guard: Guard,
    in_view: dict[int, tuple[int, int]],
    customers_in_view: int,
    chosen: FunnelFilter,
    withheld: dict[str, Withheld[Any]],
) -> Spend:
    """``in_view``: per campaign id, its leads and customers in the view; ``withheld``: the
    campaign breakdown's withheld cells per column (keyed as in the breakdown). One
    statement."""
    query = Campaign.all() if chosen == FunnelFilter() else Campaign.filter(id__in=list(in_view))
    rows = (
        await query.annotate(all_leads=ALL_LEADS).order_by("name")
        if in_view or chosen == FunnelFilter()
        else []
    )
    result: list[CampaignCost] = []
    charged_total = Decimal(0)
    leads_total = customers_total = 0
    for campaign in rows:
        leads, won = in_view.get(campaign.id, (0, 0))
        everyone = int(campaign.all_leads)  # type: ignore[attr-defined]
        charged = campaign.cost if everyone == 0 else campaign.cost * leads / everyone
        charged_total += charged
        leads_total += leads
        customers_total += won
        hidden = campaign.id in withheld["leads"]
        no_won = hidden or campaign.id in withheld["customers"]
        result.append(
            CampaignCost(
                campaign_id=campaign.id,
                name=campaign.name,
                cost=cents(campaign.cost),
                charged_cost=None if hidden else cents(charged),
                leads=None if hidden else leads,
                customers=None if no_won else won,
                cost_per_lead=None if hidden else _per(charged, leads, guard),
                acquisition_cost=None if no_won else _per(charged, won, guard),
            )
        )
    unattributed = (None in withheld["leads"], None in withheld["customers"])
    return Spend(
        campaigns=result,
        cost_per_lead=None if unattributed[0] else _per(charged_total, leads_total, guard),
        attributed_acquisition_cost=(
            None if unattributed[1] else _per(charged_total, customers_total, guard)
        ),
        blended_acquisition_cost=_per(charged_total, customers_in_view, guard),
    )
