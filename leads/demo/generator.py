"""Fictional leads: who they are, where they came from, how far they got and what they did,
with conversion rates tuned to common B2B funnel benchmarks."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from identity.models import StaffUser, Team
from leads.demo.vocabulary import (
    COMPANY_PREFIXES,
    COMPANY_SUFFIXES,
    CONTENT,
    COUNTRIES,
    FIRST_NAMES,
    INDUSTRIES,
    JOB_TITLES,
    LAST_NAMES,
    PAGES,
)
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
from leads.models import Activity, Campaign, Lead, StageChange

T = TypeVar("T")

# Probability of moving on from each stage, tuned to common B2B funnel benchmarks.
ADVANCE = {Stage.LEAD: 0.38, Stage.MQL: 0.45, Stage.SQL: 0.55, Stage.OPPORTUNITY: 0.30}
LOST_OPPORTUNITIES = 0.45
"""Of the opportunities that do not become customers, the share lost (disqualified)."""
NEXT = {
    Stage.LEAD: Stage.MQL,
    Stage.MQL: Stage.SQL,
    Stage.SQL: Stage.OPPORTUNITY,
    Stage.OPPORTUNITY: Stage.CUSTOMER,
}
SOURCE_CHANNELS: list[tuple[Source, Channel, int]] = [
    (Source.WEB_FORM, Channel.ORGANIC_SEARCH, 25),
    (Source.WEB_FORM, Channel.PAID_SEARCH, 18),
    (Source.WEB_FORM, Channel.PAID_SOCIAL, 10),
    (Source.WEB_FORM, Channel.EMAIL, 8),
    (Source.WEB_FORM, Channel.DIRECT, 8),
    (Source.EVENT, Channel.EVENTS, 8),
    (Source.REFERRAL, Channel.REFERRAL, 6),
    (Source.PARTNER, Channel.PARTNER, 5),
    (Source.OUTBOUND, Channel.OUTBOUND, 7),
    (Source.CHAT, Channel.DIRECT, 3),
    (Source.IMPORT, Channel.EVENTS, 2),
]
ENGAGEMENT: list[tuple[ActivityType, int]] = [
    (ActivityType.PAGE_VIEW, 30),
    (ActivityType.EMAIL_OPEN, 20),
    (ActivityType.EMAIL_CLICK, 8),
    (ActivityType.CONTENT_DOWNLOAD, 6),
    (ActivityType.FEATURE_PAGE_VIEW, 8),
    (ActivityType.PRICING_PAGE_VIEW, 5),
    (ActivityType.WEBINAR_REGISTERED, 3),
    (ActivityType.WEBINAR_ATTENDED, 2),
    (ActivityType.FORM_SUBMIT, 3),
]


def random_uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def weighted(rng: random.Random, options: list[tuple[T, int]]) -> T:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


class LeadGenerator:
    """Makes one fictional lead at a time, with its activities and stage history, from the
    seeder's random sequence (so the same seed gives the same leads)."""

    def __init__(
        self,
        rng: random.Random,
        start: datetime,
        now: datetime,
        teams: dict[str, Team],
        reps: dict[int, list[StaffUser]],
        campaigns: list[Campaign],
    ) -> None:
        self.rng = rng
        self.start = start
        self.now = now
        self.teams = teams
        self.reps = reps
        self.campaigns = campaigns
        self._sequence = 0

    def _campaign_for(self, when: datetime, channel: Channel) -> Campaign | None:
        day = when.date()
        for campaign in self.campaigns:
            if campaign.channel is channel and campaign.starts_on <= day <= (
                campaign.ends_on or day
            ):
                return campaign
        return None

    def make_lead(self) -> tuple[Lead, list[Activity], list[StageChange]]:
        rng = self.rng
        span = (self.now - self.start).total_seconds()
        created = self.start + timedelta(seconds=span * (rng.random() ** 0.8))
        country, region, calling, _ = rng.choices(COUNTRIES, [c[3] for c in COUNTRIES])[0]
        seniority = weighted(
            rng,
            [
                (Seniority.C_LEVEL, 6),
                (Seniority.VP, 10),
                (Seniority.DIRECTOR, 18),
                (Seniority.MANAGER, 30),
                (Seniority.INDIVIDUAL_CONTRIBUTOR, 30),
                (Seniority.UNKNOWN, 6),
            ],
        )
        title_pool = JOB_TITLES.get(seniority.value)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        company = f"{rng.choice(COMPANY_PREFIXES)} {rng.choice(COMPANY_SUFFIXES)}"
        domain = company.lower().replace(" ", "") + rng.choice([".com", ".io", ".co", ".net"])
        source, channel = weighted(rng, [((s, c), w) for s, c, w in SOURCE_CHANNELS])
        campaign = self._campaign_for(created, channel)
        team = self.teams[region if region in self.teams else "North America"]
        lead_id = random_uuid(rng)
        seq = self._next_sequence()
        lead = Lead(
            id=lead_id,
            first_name=first,
            last_name=last,
            email=f"{first.lower()}.{last.lower()}.{seq}@{domain}",
            phone=f"+{calling}{rng.randrange(10**8, 10**9)}",
            job_title=rng.choice(title_pool) if title_pool else None,
            notes=None,
            seniority=seniority,
            country=country,
            region=region,
            company_name=company,
            company_domain=domain,
            company_size=rng.choice(list(CompanySize)[1:]),
            industry=rng.choice(INDUSTRIES),
            source=source,
            channel=channel,
            campaign_id=campaign.id if campaign else None,
            utm_source={
                Channel.PAID_SEARCH: "google",
                Channel.PAID_SOCIAL: "linkedin",
                Channel.EMAIL: "newsletter",
            }.get(channel),
            utm_medium={
                Channel.PAID_SEARCH: "cpc",
                Channel.PAID_SOCIAL: "paid_social",
                Channel.EMAIL: "email",
            }.get(channel),
            utm_campaign=campaign.name.lower().replace(" ", "-") if campaign else None,
            budget=rng.choice(list(Budget)),
            authority=rng.choice(list(Authority)),
            need=rng.choice(list(Need)),
            timeline=rng.choice(list(Timeline)),
            team_id=team.id,
            created_at=created,
            updated_at=created,
        )
        changes, stage, entered = self._stage_history(lead_id, created)
        lead.stage = stage
        lead.stage_entered_at = entered
        lead.status = self._status_for(stage, entered)
        self._deal(lead, changes)
        if stage not in (Stage.SUBSCRIBER, Stage.LEAD) or rng.random() < 0.3:
            owner = rng.choice(self.reps[team.id])
            lead.owner_id = owner.id
        activities = self._activities(lead_id, created, stage, lead.owner_id)
        activities.extend(self._first_contact(lead))
        engaged = [a.occurred_at for a in activities if a.recorded_by_id is None]
        lead.last_engaged_at = max(engaged) if engaged else None
        if lead.sql_at is not None:
            touches = [
                a.occurred_at
                for a in activities
                if a.recorded_by_id is not None and a.occurred_at >= lead.sql_at
            ]
            lead.first_touch_at = min(touches) if touches else None
        lead.updated_at = max([created, entered, *[a.occurred_at for a in activities]])
        return lead, activities, changes

    @staticmethod
    def _deal(lead: Lead, changes: list[StageChange]) -> None:
        """Deal values for leads that reached opportunity, won amounts for customers, and
        the time each became an SQL (from a generator of their own, so the main sequence
        and everything seeded from it stay as they were)."""
        reached = {change.to_stage: change.changed_at for change in changes}
        lead.sql_at = reached.get(Stage.SQL)
        if Stage.OPPORTUNITY not in reached:
            return
        own = random.Random(lead.id.int)
        lead.deal_value = Decimal(own.randrange(50, 1200) * 100)
        if Stage.CUSTOMER in reached:
            lead.won_amount = (lead.deal_value * Decimal(str(own.uniform(0.8, 1.1)))).quantize(
                Decimal("0.01")
            )

    def _next_sequence(self) -> int:
        self._sequence += 1
        return self._sequence

    def _stage_history(
        self, lead_id: uuid.UUID, created: datetime
    ) -> tuple[list[StageChange], Stage, datetime]:
        rng = self.rng
        stage = Stage.SUBSCRIBER if rng.random() < 0.1 else Stage.LEAD
        when = created
        changes = [StageChange(lead_id=lead_id, from_stage=None, to_stage=stage, changed_at=when)]
        if stage is Stage.SUBSCRIBER and rng.random() < 0.5:
            when = self._later(when, 3, 40)
            if when < self.now:
                changes.append(
                    StageChange(
                        lead_id=lead_id, from_stage=stage, to_stage=Stage.LEAD, changed_at=when
                    )
                )
                stage = Stage.LEAD
        while stage in ADVANCE and rng.random() < ADVANCE[stage]:
            nxt = NEXT[stage]
            step_when = self._later(when, 2, 45)
            if step_when >= self.now:
                break
            reason = "qualified on call" if nxt is Stage.SQL else None
            changes.append(
                StageChange(
                    lead_id=lead_id,
                    from_stage=stage,
                    to_stage=nxt,
                    changed_at=step_when,
                    reason=reason,
                )
            )
            stage, when = nxt, step_when
        lost = stage is Stage.OPPORTUNITY and rng.random() < LOST_OPPORTUNITIES
        if lost or (stage in (Stage.LEAD, Stage.MQL, Stage.SQL) and rng.random() < 0.12):
            dq_when = self._later(when, 5, 60)
            if dq_when < self.now:
                changes.append(
                    StageChange(
                        lead_id=lead_id,
                        from_stage=stage,
                        to_stage=Stage.DISQUALIFIED,
                        changed_at=dq_when,
                        reason=rng.choice(["no budget", "not a fit", "went with a competitor"]),
                    )
                )
                stage, when = Stage.DISQUALIFIED, dq_when
        return changes, stage, when

    def _later(self, when: datetime, low_days: int, high_days: int) -> datetime:
        return when + timedelta(days=self.rng.uniform(low_days, high_days))

    def _status_for(self, stage: Stage, entered: datetime) -> Status:
        if stage is Stage.CUSTOMER:
            return Status.CONVERTED
        if stage is Stage.DISQUALIFIED or (self.now - entered).days > 120:
            return Status.COLD
        if stage in (Stage.SQL, Stage.OPPORTUNITY):
            return Status.WORKING
        return Status.NURTURING if self.rng.random() < 0.5 else Status.OPEN

    def _first_contact(self, lead: Lead) -> list[Activity]:
        """The owner's call after the lead became an SQL: mostly within the hour (the
        default first-contact SLA), sometimes hours late, sometimes not yet."""
        if lead.sql_at is None or lead.owner_id is None:
            return []
        roll = self.rng.random()
        if roll < 0.65:
            delay = timedelta(minutes=self.rng.uniform(3, 55))
        elif roll < 0.85:
            delay = timedelta(hours=self.rng.uniform(1.5, 30))
        else:
            return []
        when = lead.sql_at + delay
        if when >= self.now:
            return []
        return [self._activity(lead.id, ActivityType.CALL, when, lead.owner_id)]

    def _activities(
        self, lead_id: uuid.UUID, created: datetime, stage: Stage, owner: uuid.UUID | None
    ) -> list[Activity]:
        rng = self.rng
        depth = {
            Stage.SUBSCRIBER: 3,
            Stage.LEAD: 5,
            Stage.MQL: 10,
            Stage.SQL: 14,
            Stage.OPPORTUNITY: 18,
            Stage.CUSTOMER: 20,
            Stage.DISQUALIFIED: 6,
        }[stage]
        count = max(1, int(rng.gauss(depth, depth / 3)))
        window = max((self.now - created).total_seconds(), 60.0)
        rows: list[Activity] = []
        for _ in range(count):
            when = created + timedelta(seconds=window * rng.random())
            kind = weighted(rng, ENGAGEMENT)
            rows.append(self._activity(lead_id, kind, when, None))
        if stage in (Stage.SQL, Stage.OPPORTUNITY, Stage.CUSTOMER):
            rows.append(
                self._activity(
                    lead_id,
                    rng.choice([ActivityType.DEMO_REQUEST, ActivityType.TRIAL_SIGNUP]),
                    created,
                    None,
                )
            )
            for kind in (ActivityType.CALL, ActivityType.EMAIL_SENT, ActivityType.MEETING):
                when = created + timedelta(seconds=window * rng.random())
                rows.append(self._activity(lead_id, kind, when, owner))
        return rows

    def _activity(
        self, lead_id: uuid.UUID, kind: ActivityType, when: datetime, by: uuid.UUID | None
    ) -> Activity:
        rng = self.rng
        details: dict[str, str | int] = {}
        if kind in (ActivityType.PAGE_VIEW, ActivityType.FEATURE_PAGE_VIEW):
            details["path"] = rng.choice(PAGES)
        elif kind is ActivityType.PRICING_PAGE_VIEW:
            details["path"] = "/pricing"
        elif kind is ActivityType.CONTENT_DOWNLOAD:
            details["content_id"] = rng.choice(CONTENT)
        elif kind in (ActivityType.CALL, ActivityType.MEETING):
            details["duration_minutes"] = rng.choice([15, 30, 45, 60])
        campaign = (
            self._campaign_for(when, Channel.EMAIL)
            if kind in (ActivityType.EMAIL_OPEN, ActivityType.EMAIL_CLICK)
            else None
        )
        return Activity(
            lead_id=lead_id,
            type=kind,
            occurred_at=when,
            details=details,
            recorded_by_id=by,
            campaign_id=campaign.id if campaign else None,
        )
