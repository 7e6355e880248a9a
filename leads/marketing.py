"""Marketing exports: the people who may be emailed, and nobody else.

Only leads whose consent state allows ``email_marketing`` right now are selected, in SQL;
a withdrawal is honoured by the very next export. An export names its subjects in the audit
trail, never their addresses.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

from audit.events import Actor, Event, Outcome, record
from compliance.consent import state as consent_state
from compliance.consent.purposes import EMAIL_MARKETING
from crypto.vault import current_vault
from leads.enums import Status
from leads.models import Lead

BATCH = 1000
COLUMNS = ("lead_id", "email", "first_name", "last_name", "company_name", "country")


@dataclass(frozen=True, slots=True)
class MarketingContact:
    lead_id: uuid.UUID
    email: str
    first_name: str | None
    last_name: str | None
    company_name: str | None
    country: str | None


async def audience(
    now: datetime, campaign_id: int | None = None, cold: bool = False
) -> AsyncIterator[list[MarketingContact]]:
    """Batches of contacts that consented to email marketing (and have an email); with
    ``cold``, only cold leads (the re-engagement list)."""
    vault = current_vault()
    query = Lead.filter(
        id__in=consent_state.leads_allowing(EMAIL_MARKETING, now), email__isnull=False
    )
    if campaign_id is not None:
        query = query.filter(campaign_id=campaign_id)
    if cold:
        query = query.filter(status=Status.COLD)
    after: uuid.UUID | None = None
    while True:
        page_query = query.filter(id__gt=after) if after is not None else query
        rows = await page_query.order_by("id").limit(BATCH)
        if not rows:
            return
        keys = await vault.subject_keys([r.id for r in rows])
        batch = []
        for row in rows:
            key = keys.get(row.id)
            if key is None:  # erased: nothing to send to
                continue

            def opened(field: str, row: Lead = row, key: bytes = key) -> str | None:
                return vault.open_value(Lead, field, row.id, getattr(row, field), key)

            batch.append(
                MarketingContact(
                    row.id,
                    opened("email") or "",
                    opened("first_name"),
                    opened("last_name"),
                    row.company_name,
                    row.country,
                )
            )
        yield batch
        after = rows[-1].id


async def export_csv(
    out: TextIO,
    actor: Actor,
    now: datetime,
    campaign_id: int | None = None,
    on_progress: Callable[[int], None] | None = None,
    *,
    cold: bool = False,
) -> int:
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    subjects: list[str] = []
    async for batch in audience(now, campaign_id, cold):
        for c in batch:
            writer.writerow(
                [c.lead_id, c.email, c.first_name, c.last_name, c.company_name, c.country]
            )
            subjects.append(str(c.lead_id))
        if on_progress is not None:
            on_progress(len(batch))
    await record(
        Event(
            action="marketing.exported",
            outcome=Outcome.SUCCESS,
            actor=actor,
            subject_ids=tuple(subjects),
            fields=tuple(COLUMNS[1:]),
            purpose=EMAIL_MARKETING,
            details={"rows": len(subjects), "campaign_id": campaign_id, "cold_only": cold},
        ),
        now=now,
    )
    return len(subjects)
