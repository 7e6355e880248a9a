"""Cold detection and the re-engagement list."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from audit.events import Actor
from audit.models import AuditEvent
from compliance.consent.purposes import EMAIL_MARKETING
from identity.principal import Principal
from identity.roles import Role
from leads.cold import mark_cold
from leads.enums import Stage, Status
from leads.marketing import export_csv
from leads.models import Lead
from leads.repository import LeadFilter, LeadOrder, LeadRepository
from tests.builders import a_lead

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
MONTH = timedelta(days=30)


async def test_leads_without_engagement_for_the_period_go_cold_and_the_dry_run_agrees() -> None:
    stale = await a_lead(last_engaged_at=NOW - 40 * DAY, created_at=NOW - 90 * DAY)
    never = await a_lead(created_at=NOW - 31 * DAY)
    recent = await a_lead(last_engaged_at=NOW - 10 * DAY, created_at=NOW - 90 * DAY)
    new = await a_lead(created_at=NOW - 2 * DAY)
    in_sales = await a_lead(stage=Stage.SQL, created_at=NOW - 90 * DAY)
    won = await a_lead(stage=Stage.CUSTOMER, status=Status.CONVERTED, created_at=NOW - 90 * DAY)

    planned = await mark_cold(Actor.operator(), NOW, MONTH, dry_run=True)
    done = await mark_cold(Actor.operator(), NOW, MONTH)
    again = await mark_cold(Actor.operator(), NOW, MONTH)

    assert planned.leads == done.leads == 2
    assert again.leads == 0
    statuses = {row.id: row.status for row in await Lead.all()}
    assert statuses[stale.id] is Status.COLD
    assert statuses[never.id] is Status.COLD
    for warm in (recent, new, in_sales):
        assert statuses[warm.id] is Status.OPEN
    assert statuses[won.id] is Status.CONVERTED
    event = await AuditEvent.get(action="lead.cold.marked")
    assert event.details == {"leads": 2, "after_days": 30}


async def test_the_re_engagement_list_holds_cold_leads_that_consent_to_email() -> None:
    cold_yes = await a_lead(status=Status.COLD, consents=(EMAIL_MARKETING,))
    await a_lead(status=Status.COLD)
    await a_lead(consents=(EMAIL_MARKETING,))
    marketer = LeadRepository(Principal(role=Role.MARKETER))

    listed = await marketer.count(LeadFilter(reengageable=True))
    page = await marketer.page(LeadFilter(reengageable=True), LeadOrder(), 10, None)

    assert listed == 1
    assert [edge.id for edge in page.items] == [cold_yes.id]


async def test_the_cold_export_holds_only_cold_leads_that_consent() -> None:
    await a_lead(status=Status.COLD, email="cold@example.com", consents=(EMAIL_MARKETING,))
    await a_lead(status=Status.COLD, email="silent@example.com")
    await a_lead(email="warm@example.com", consents=(EMAIL_MARKETING,))
    out = io.StringIO()

    rows = await export_csv(out, Actor.operator(), datetime.now(UTC), cold=True)

    assert rows == 1
    assert "cold@example.com" in out.getvalue()
    assert "warm@example.com" not in out.getvalue()
    assert "silent@example.com" not in out.getvalue()
