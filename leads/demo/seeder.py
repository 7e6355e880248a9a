"""Writes the demo organisation, campaigns and leads in batches: personal values sealed with
each lead's own key, blind indexes, and consent with its evidence in the ledger."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

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
from leads.demo.generator import LeadGenerator, random_uuid
from leads.demo.vocabulary import FIRST_NAMES, LAST_NAMES, TEAMS
from leads.enums import Channel
from leads.followup import followup_config
from leads.models import Activity, Campaign, ContactIndex, Lead, StageChange, Task, TaskKind

HISTORY_DAYS = 548  # about 18 months
BATCH = 500


@dataclass
class SeedReport:
    teams: int = 0
    staff: int = 0
    campaigns: int = 0
    leads: int = 0
    activities: int = 0
    stage_changes: int = 0
    tasks: int = 0


def first_contact_tasks(leads: list[Lead]) -> list[Task]:
    """The first-contact task every lead gets on becoming an SQL, due within its source's
    SLA and done at the owner's first touch after that (open while there is none)."""
    config = followup_config()
    return [
        Task(
            lead_id=lead.id,
            owner_id=lead.owner_id,
            kind=TaskKind.FIRST_CONTACT,
            step=0,
            due_at=lead.sql_at + config.sla_for(lead.source.value if lead.source else None),
            completed_at=lead.first_touch_at,
            completed_by_id=lead.owner_id if lead.first_touch_at else None,
            created_at=lead.sql_at,
        )
        for lead in leads
        if lead.sql_at is not None
    ]


class DemoSeeder:
    def __init__(self, seed: int, as_of: date) -> None:
        self.rng = random.Random(seed)
        self.now = datetime.combine(as_of, datetime.min.time(), UTC)
        self.start = self.now - timedelta(days=HISTORY_DAYS)
        self.report = SeedReport()
        self.teams: dict[str, Team] = {}
        self.reps: dict[int, list[StaffUser]] = {}
        self.campaigns: list[Campaign] = []
        self.consent_rng = random.Random(seed + 1)

    async def seed(
        self, leads: int, on_progress: Callable[[int], None] | None = None
    ) -> SeedReport:
        async with in_transaction("default"):
            await self._seed_organisation()
            await self._seed_campaigns()
        generator = LeadGenerator(
            self.rng, self.start, self.now, self.teams, self.reps, self.campaigns
        )
        done = 0
        while done < leads:
            size = min(BATCH, leads - done)
            await self._seed_lead_batch(generator, size)
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
                id=random_uuid(rng),
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

    async def _seed_lead_batch(self, generator: LeadGenerator, size: int) -> None:
        leads: list[Lead] = []
        activities: list[Activity] = []
        changes: list[StageChange] = []
        for _ in range(size):
            lead, lead_activities, lead_changes = generator.make_lead()
            leads.append(lead)
            activities.extend(lead_activities)
            changes.extend(lead_changes)
        indexes, keys = await self._seal(leads, changes)
        async with in_transaction("default"):
            await Lead.bulk_create(leads)
            await Activity.bulk_create(activities)
            await StageChange.bulk_create(changes)
            tasks = first_contact_tasks(leads)
            await Task.bulk_create(tasks)
            await ContactIndex.bulk_create(indexes)
            await ledger.append_for_new_leads(
                [self._consent_of(lead, keys[lead.id]) for lead in leads],
                Actor.operator(),
                self.now,
            )
        self.report.leads += len(leads)
        self.report.activities += len(activities)
        self.report.stage_changes += len(changes)
        self.report.tasks += len(tasks)

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
