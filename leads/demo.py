"""Deterministic, realistic demo data: teams, staff, campaigns, leads, 18 months of
activities and stage histories with plausible conversion rates.

Every person is fictional; the same seed and ``as_of`` day give the same data. Rows are
written in batches through the models, so personal fields go through the same field type
as any other write.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from tortoise.transactions import in_transaction

from audit.events import Actor
from compliance.consent import ledger
from compliance.consent.evidence import ConsentSource, Evidence
from compliance.consent.purposes import EMAIL_MARKETING, PROFILING, THIRD_PARTY_SHARING
from crypto.fields import personal_fields_of
from crypto.vault import current_vault
from identity.models import StaffUser, Team
from identity.roles import Role
from leads.contacts import index_rows
from leads.demo_vocabulary import (
    COMPANY_PREFIXES,
    COMPANY_SUFFIXES,
    CONTENT,
    COUNTRIES,
    FIRST_NAMES,
    INDUSTRIES,
    JOB_TITLES,
    LAST_NAMES,
    PAGES,
    TEAMS,
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
from leads.models import Activity, Campaign, ContactIndex, Lead, StageChange

T = TypeVar("T")

HISTORY_DAYS = 548  # about 18 months
BATCH = 500

# Probability of moving on from each stage, tuned to common B2B funnel benchmarks.
ADVANCE = {Stage.LEAD: 0.38, Stage.MQL: 0.45, Stage.SQL: 0.55, Stage.OPPORTUNITY: 0.30}
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


@dataclass
class SeedReport:
    teams: int = 0
    staff: int = 0
    campaigns: int = 0
    leads: int = 0
    activities: int = 0
    stage_changes: int = 0


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _weighted(rng: random.Random, options: list[tuple[T, int]]) -> T:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


class DemoSeeder:
    def __init__(self, seed: int, as_of: date) -> None:
        self.rng = random.Random(seed)
        self.now = datetime.combine(as_of, datetime.min.time(), UTC)
        self.start = self.now - timedelta(days=HISTORY_DAYS)
        self.report = SeedReport()
        self.teams: dict[str, Team] = {}
        self.reps: dict[int, list[StaffUser]] = {}
        self.campaigns: list[Campaign] = []
        self._sequence = 0
        self.consent_rng = random.Random(seed + 1)

    async def seed(
        self, leads: int, on_progress: Callable[[int], None] | None = None
    ) -> SeedReport:
        async with in_transaction("default"):
            await self._seed_organisation()
            await self._seed_campaigns()
        done = 0
        while done < leads:
            size = min(BATCH, leads - done)
            await self._seed_lead_batch(size)
            done += size
            if on_progress:
                on_progress(size)
        return self.report

    async def _seed_organisation(self) -> None:
        # Staff do not depend on the seed, so seeding again reuses the same people.
        rng = random.Random(0)
        for name in TEAMS:
            team, _ = await Team.get_or_create(name=name)
            self.teams[name] = team
        self.report.teams = len(self.teams)
        staff: list[StaffUser] = []

        def person(role: Role, team: Team | None, label: str) -> StaffUser:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            email = f"{label}.{first.lower()}.{last.lower()}@staff.leadvault.example"
            return StaffUser(
                id=_uuid(rng),
                email=email,
                display_name=f"{first} {last}",
                role=role,
                team_id=team.id if team else None,
            )

        for team in self.teams.values():
            slug = team.name.lower().replace(" ", "")
            staff.append(person(Role.SALES_MANAGER, team, f"mgr-{slug}"))
            reps = [person(Role.SALES_REP, team, f"rep{i}-{slug}") for i in range(1, 5)]
            self.reps[team.id] = reps
            staff.extend(reps)
        for role in (
            Role.MARKETER,
            Role.ANALYST,
            Role.COMPLIANCE_OFFICER,
            Role.AUDITOR,
            Role.ADMIN,
        ):
            staff.append(person(role, None, role.value.replace("_", "-")))
        existing = set(
            await StaffUser.filter(email__in=[s.email for s in staff]).values_list(
                "email", flat=True
            )
        )
        await StaffUser.bulk_create([s for s in staff if s.email not in existing])
        if existing:
            loaded = {u.email: u for u in await StaffUser.filter(email__in=list(existing))}
            for reps in self.reps.values():
                reps[:] = [loaded.get(r.email, r) for r in reps]
        self.report.staff = len(staff)

    async def _seed_campaigns(self) -> None:
        rng = self.rng
        month = self.start.date().replace(day=1)
        campaigns: list[Campaign] = []
        while month <= self.now.date():
            for channel in (
                Channel.PAID_SEARCH,
                Channel.PAID_SOCIAL,
                Channel.EVENTS,
                Channel.EMAIL,
            ):
                if channel is Channel.EVENTS and month.month % 3:
                    continue
                cost = Decimal(rng.randrange(2_000, 40_000)) + Decimal("0.00")
                name = f"{month:%Y-%m} {channel.value.replace('_', ' ').title()}"
                ends = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
                campaigns.append(
                    Campaign(name=name, channel=channel, cost=cost, starts_on=month, ends_on=ends)
                )
            month = (month + timedelta(days=32)).replace(day=1)
        names = [c.name for c in campaigns]
        existing = set(await Campaign.filter(name__in=names).values_list("name", flat=True))
        await Campaign.bulk_create([c for c in campaigns if c.name not in existing])
        self.campaigns = await Campaign.all().order_by("starts_on", "id")
        self.report.campaigns = len(self.campaigns)

    def _campaign_for(self, when: datetime, channel: Channel) -> Campaign | None:
        day = when.date()
        for campaign in self.campaigns:
            if campaign.channel is channel and campaign.starts_on <= day <= (
                campaign.ends_on or day
            ):
                return campaign
        return None

    async def _seed_lead_batch(self, size: int) -> None:
        leads: list[Lead] = []
        activities: list[Activity] = []
        changes: list[StageChange] = []
        for _ in range(size):
            lead, lead_activities, lead_changes = self._make_lead()
            leads.append(lead)
            activities.extend(lead_activities)
            changes.extend(lead_changes)
        indexes, keys = await self._seal(leads, changes)
        async with in_transaction("default"):
            await Lead.bulk_create(leads)
            await Activity.bulk_create(activities)
            await StageChange.bulk_create(changes)
            await ContactIndex.bulk_create(indexes)
            await ledger.append_for_new_leads(
                [self._consent_of(lead, keys[lead.id]) for lead in leads],
                Actor.operator(),
                self.now,
            )
        self.report.leads += len(leads)
        self.report.activities += len(activities)
        self.report.stage_changes += len(changes)

    def _consent_of(self, lead: Lead, key: bytes) -> ledger.NewLeadConsent:
        """Every lead gets its legitimate-interest bases; about 55% consented to email
        marketing and 10% to partner sharing; 3% objected to profiling."""
        rng = self.consent_rng
        objects = rng.random() < 0.03
        changes = ledger.basis_changes({PROFILING} if objects else ())
        if objects:
            changes.append(ledger.ConsentChange(PROFILING, granted=False))
        if rng.random() < 0.55:
            changes.append(ledger.ConsentChange(EMAIL_MARKETING, granted=True))
        if rng.random() < 0.10:
            changes.append(ledger.ConsentChange(THIRD_PARTY_SHARING, granted=True))
        evidence = Evidence(
            source=ConsentSource.FORM, occurred_at=lead.created_at, source_ref="demo-signup"
        )
        return ledger.NewLeadConsent(lead.id, key, changes, evidence)

    async def _seal(
        self, leads: list[Lead], changes: list[StageChange]
    ) -> tuple[list[ContactIndex], dict[uuid.UUID, bytes]]:
        """Seal personal values with each lead's new data key; return their blind indexes."""
        vault = current_vault()
        keys = await vault.subject_keys([lead.id for lead in leads], create=True)
        personal = list(personal_fields_of(Lead))
        indexes: list[ContactIndex] = []
        for lead in leads:
            plain = {name: getattr(lead, name) for name in personal}
            for name, value in vault.seal_values(Lead, lead.id, keys[lead.id], plain).items():
                setattr(lead, name, value)
            indexes.extend(index_rows(lead.id, plain))
        for change in changes:
            if change.reason is not None:
                sealed = vault.seal_values(
                    StageChange, change.id, keys[change.lead_id], {"reason": change.reason}
                )
                change.reason = sealed["reason"]
        return indexes, keys

    def _make_lead(self) -> tuple[Lead, list[Activity], list[StageChange]]:
        rng = self.rng
        span = (self.now - self.start).total_seconds()
        created = self.start + timedelta(seconds=span * (rng.random() ** 0.8))
        country, region, calling, _ = rng.choices(COUNTRIES, [c[3] for c in COUNTRIES])[0]
        seniority = _weighted(
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
        source, channel = _weighted(rng, [((s, c), w) for s, c, w in SOURCE_CHANNELS])
        campaign = self._campaign_for(created, channel)
        team = self.teams[region if region in self.teams else "North America"]
        lead_id = _uuid(rng)
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
        if stage in (Stage.LEAD, Stage.MQL, Stage.SQL) and rng.random() < 0.12:
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
            kind = _weighted(rng, ENGAGEMENT)
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
