"""What erasing a person does to each table, one small strategy per table.

Erasure keeps the lead row and everything the funnel counts (stage, stage history times,
source, channel, campaign, country, company size, industry, amounts, tasks), so aggregates
do not change, and removes or blanks everything that is about the person:

- ``contact_index``: the blind indexes are copied to the suppression list (so the same
  email or phone is refused later unless the person consents again), then deleted;
- ``lead``: every personal column, the company name and domain, region, free-form UTM term
  and content, and the score explanation are cleared; ``erased_at`` is set;
- ``activity``: the event metadata (``details``) is cleared; type and time stay;
- ``stage_change``: the written reasons are cleared;
- ``score_history``: deleted (profiling of the person);
- ``outbox_message`` and ``consent_confirmation``: deleted (a message or pending opt-in for
  someone who no longer exists);
- ``consent_event``: kept, as the proof of what the person agreed to and withdrew; its
  sealed evidence (network, note) becomes unreadable when the key is shredded.

Then the executor shreds the person's data key, so any ciphertext left anywhere (including
backups) is unreadable. Every strategy works on a batch of leads and is safe to run again.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.functions import Count
from tortoise.queryset import QuerySet

from compliance.categories import DataCategory
from compliance.consent.models import ConsentConfirmation, ConsentEvent
from compliance.consent.suppression import suppress_indexes
from compliance.events.emit import NewEvent, emit, lead_event
from compliance.events.log import purge_for_leads
from compliance.events.models import WebhookDelivery
from compliance.events.types import EventType
from compliance.models import OutboxMessage
from leads.models import Activity, ContactIndex, Lead, StageChange
from leads.scoring.models import ScoreHistory

Leads = Sequence[uuid.UUID]
References = Mapping[uuid.UUID, str]
"""Lead id → what its suppression entries name as their cause (``dsr:<request id>``)."""


@dataclass(frozen=True, slots=True)
class TableCount:
    table: str
    action: str
    fields: tuple[str, ...]
    rows: int


class Strategy:
    """What erasure does to one table. ``rows`` selects the rows of the given leads that
    the strategy touches (counted per lead before it acts)."""

    table: str
    action: str
    fields: tuple[str, ...]
    category: DataCategory = DataCategory.LEADS

    def rows(self, lead_ids: Sequence[uuid.UUID]) -> QuerySet[Any]:
        raise NotImplementedError

    async def apply(
        self, lead_ids: Sequence[uuid.UUID], now: datetime, references: References
    ) -> None:
        raise NotImplementedError

    async def per_lead(self, lead_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        found = (
            await self.rows(lead_ids)
            .annotate(n=Count("lead_id"))
            .group_by("lead_id")
            .values_list("lead_id", "n")
        )
        return {lead_id: int(n) for lead_id, n in found}


class SuppressContacts(Strategy):
    table, action, fields = "suppressed_contact", "added", ("kind", "key_version", "digest")

    def rows(self, lead_ids: Sequence[uuid.UUID]) -> QuerySet[Any]:
        return ContactIndex.filter(lead_id__in=list(lead_ids))

    async def apply(
        self, lead_ids: Sequence[uuid.UUID], now: datetime, references: References
    ) -> None:
        found = await self.rows(lead_ids).values_list("lead_id", "kind", "key_version", "digest")
        by_reference: dict[str | None, list[tuple[str, int, str]]] = {}
        for lead_id, kind, version, digest in found:
            by_reference.setdefault(references.get(lead_id), []).append(
                (str(kind), int(version), str(digest))
            )
        for reference, digests in by_reference.items():
            await suppress_indexes(digests, "erasure", reference)


class DeleteContactIndexes(Strategy):
    table, action, fields = "contact_index", "deleted", ("kind", "key_version", "digest")

    def rows(self, lead_ids: Sequence[uuid.UUID]) -> QuerySet[Any]:
        return ContactIndex.filter(lead_id__in=list(lead_ids))

    async def apply(
        self, lead_ids: Sequence[uuid.UUID], now: datetime, references: References
    ) -> None:
        await self.rows(lead_ids).delete()


class BlankLead(Strategy):
    table, action = "lead", "anonymised"
    fields = (
        "first_name",
        "last_name",
        "email",
        "phone",
        "job_title",
        "notes",
        "company_name",
        "company_domain",
        "region",
        "utm_term",
        "utm_content",
        "score_breakdown",
    )

    def rows(self, lead_ids: Sequence[uuid.UUID]) -> QuerySet[Any]:
        return Lead.filter(id__in=list(lead_ids))

    async def per_lead(self, lead_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        found = await self.rows(lead_ids).values_list("id", flat=True)
        return dict.fromkeys(found, 1)  # type: ignore[arg-type]

    async def apply(
        self, lead_ids: Sequence[uuid.UUID], now: datetime, references: References
    ) -> None:
        cleared: dict[str, object] = {name: None for name in self.fields}
        cleared["score_breakdown"] = []
        await self.rows(lead_ids).update(**cleared, erased_at=now, updated_at=now)


class BlankActivityDetails(Strategy):
    table, action, fields = "activity", "anonymised", ("details",)
    category = DataCategory.ACTIVITIES

    def rows(self, lead_ids: Sequence[uuid.UUID]) -> QuerySet[Any]:
        return Activity.filter(lead_id__in=list(lead_ids))

    async def apply(
        self, lead_ids: Sequence[uuid.UUID], now: datetime, references: References
    ) -> None:
        await self.rows(lead_ids).update(details={})


class BlankStageReasons(Strategy):
    table, action, fields = "stage_change", "anonymised", ("reason",)

    def rows(self, lead_ids: Sequence[uuid.UUID]) -> QuerySet[Any]:
        return StageChange.filter(lead_id__in=list(lead_ids), reason__isnull=False)

    async def apply(
        self, lead_ids: Sequence[uuid.UUID], now: datetime, references: References
    ) -> None:
        await self.rows(lead_ids).update(reason=None)


class DeleteRows(Strategy):
    def __init__(self, model: type[ScoreHistory | OutboxMessage | ConsentConfirmation]) -> None:
        self.model = model
        self.table = model._meta.db_table
        self.action = "deleted"
        self.fields = tuple(name for name in model._meta.db_fields if name not in ("id", "lead_id"))

    def rows(self, lead_ids: Sequence[uuid.UUID]) -> QuerySet[Any]:
        return self.model.filter(lead_id__in=list(lead_ids))

    async def apply(
        self, lead_ids: Sequence[uuid.UUID], now: datetime, references: References
    ) -> None:
        await self.rows(lead_ids).delete()


class KeepShreddedEvidence(Strategy):
    table, action, fields = "consent_event", "evidence_shredded", ("client_network", "note")

    def rows(self, lead_ids: Sequence[uuid.UUID]) -> QuerySet[Any]:
        return ConsentEvent.filter(lead_id__in=list(lead_ids))

    async def apply(
        self, lead_ids: Sequence[uuid.UUID], now: datetime, references: References
    ) -> None:
        return None


class PurgeWebhookDeliveries(Strategy):
    """Events about the lead not yet delivered are never sent (their bodies hold ids only,
    but a receiver learning of a person after their erasure is what erasure rules out)."""

    table, action, fields = "webhook_delivery", "purged", ("status",)

    def rows(self, lead_ids: Sequence[uuid.UUID]) -> QuerySet[Any]:
        return WebhookDelivery.filter(status="pending", event__lead_id__in=list(lead_ids))

    async def per_lead(self, lead_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        found = await self.rows(lead_ids).values_list("event__lead_id", flat=True)
        return dict(Counter(uuid.UUID(str(lead_id)) for lead_id in found))

    async def apply(
        self, lead_ids: Sequence[uuid.UUID], now: datetime, references: References
    ) -> None:
        await purge_for_leads(lead_ids, now)


STRATEGIES: tuple[Strategy, ...] = (
    SuppressContacts(),
    DeleteContactIndexes(),
    BlankLead(),
    BlankActivityDetails(),
    BlankStageReasons(),
    DeleteRows(ScoreHistory),
    DeleteRows(OutboxMessage),
    DeleteRows(ConsentConfirmation),
    KeepShreddedEvidence(),
    PurgeWebhookDeliveries(),
)
"""In order: the suppression copy must be taken before the indexes go."""


async def anonymise(
    lead_ids: Sequence[uuid.UUID],
    now: datetime,
    references: References,
    *,
    held_categories: frozenset[DataCategory] = frozenset(),
    suppress: bool = True,
    counted: bool = True,
) -> dict[uuid.UUID, list[TableCount]]:
    """Apply every strategy to the leads, a statement or two per table whatever their number
    (inside the caller's transaction). Returns what each lead had in each table (``counted``
    False skips the counting: retention needs only the total). Strategies of a held
    category are skipped and reported with ``action`` ``held``; ``suppress=False``
    (retention: the person did not object) leaves the suppression list alone."""
    per_lead: dict[uuid.UUID, list[TableCount]] = {lead_id: [] for lead_id in lead_ids}
    for strategy in STRATEGIES:
        if not suppress and isinstance(strategy, SuppressContacts):
            continue
        if strategy.category in held_categories:
            for counts in per_lead.values():
                counts.append(TableCount(strategy.table, "held", strategy.fields, 0))
            continue
        found = await strategy.per_lead(lead_ids) if counted else {}
        await strategy.apply(lead_ids, now, references)
        for lead_id, counts in per_lead.items():
            counts.append(
                TableCount(strategy.table, strategy.action, strategy.fields, found.get(lead_id, 0))
            )
    await emit([_erased(lead_id, references.get(lead_id)) for lead_id in lead_ids], now)
    return per_lead


def _erased(lead_id: uuid.UUID, reference: str | None) -> NewEvent:
    """``lead.erased``, naming the request when an erasure request did it (retention
    otherwise)."""
    request = reference.removeprefix("dsr:") if reference and reference.startswith("dsr:") else None
    return lead_event(EventType.LEAD_ERASED, lead_id, requestId=request)
