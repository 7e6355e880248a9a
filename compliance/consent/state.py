"""The current state the consent ledger implies, and the queries that enforce it.

The current state of a purpose for a lead is the latest event's word on it (:func:`derive`);
``consent_state`` holds that projection, moved with each event (:func:`move_state`) and
rebuildable from the ledger (:func:`rebuild_state`). Enforcement reads it in SQL
(:func:`allowing`, :func:`leads_allowing`), never loading rows it would drop.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise import connections
from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from compliance.consent.evidence import ConsentKind, ConsentSource
from compliance.consent.models import ConsentEvent, ConsentState
from compliance.consent.purposes import LawfulBasis, Purpose, purposes
from core.bulk import as_sql, marks

_EVENT_FIELDS = (
    "lead_id",
    "purpose",
    "kind",
    "basis",
    "notice_version",
    "source",
    "occurred_at",
    "id",
)


@dataclass(frozen=True, slots=True)
class CurrentConsent:
    """The derived state of one purpose for one lead."""

    purpose: str
    status: ConsentKind
    basis: LawfulBasis
    notice_version: str | None
    source: ConsentSource
    since: datetime
    expires_at: datetime | None

    def allows(self, now: datetime) -> bool:
        return self.status is ConsentKind.GRANTED and (
            self.expires_at is None or self.expires_at > now
        )


def expiry_of(purpose: Purpose, kind: ConsentKind, occurred_at: datetime) -> datetime | None:
    if kind is not ConsentKind.GRANTED or purpose.expires_after_days is None:
        return None
    return occurred_at + timedelta(days=purpose.expires_after_days)


STATE_COLUMNS = (
    "lead_id",
    "purpose",
    "status",
    "basis",
    "notice_version",
    "source",
    "since",
    "expires_at",
    "event_id",
)


def state_values(event: Mapping[str, Any]) -> list[object]:
    """The state an event implies, in :data:`STATE_COLUMNS` order."""
    purpose = purposes().get(event["purpose"])
    kind = ConsentKind(event["kind"])
    expires = expiry_of(purpose, kind, event["occurred_at"]) if purpose else None
    return [
        event["lead_id"],
        event["purpose"],
        kind.value,
        event["basis"],
        event["notice_version"],
        event["source"],
        event["occurred_at"],
        expires,
        event["id"],
    ]


def state_row(event: ConsentEvent) -> ConsentState:
    values = {name: getattr(event, name) for name in _EVENT_FIELDS}
    return ConsentState(**dict(zip(STATE_COLUMNS, state_values(values), strict=True)))


async def move_state(event: ConsentEvent) -> None:
    row = state_row(event)
    updated = await ConsentState.filter(
        lead_id=event.lead_id, purpose=event.purpose, event_id__lt=event.id
    ).update(
        status=row.status,
        basis=row.basis,
        notice_version=row.notice_version,
        source=row.source,
        since=row.since,
        expires_at=row.expires_at,
        event_id=row.event_id,
    )
    if (
        not updated
        and not await ConsentState.filter(lead_id=event.lead_id, purpose=event.purpose).exists()
    ):
        await row.save()


def derive(events: Iterable[ConsentEvent]) -> dict[tuple[uuid.UUID, str], ConsentState]:
    """The state the ledger implies: for each lead and purpose, its latest event."""
    latest: dict[tuple[uuid.UUID, str], ConsentEvent] = {}
    for event in events:
        key = (event.lead_id, event.purpose)
        if key not in latest or event.id > latest[key].id:
            latest[key] = event
    return {key: state_row(event) for key, event in latest.items()}


async def rebuild_state(batch: int = 5000) -> int:
    """Recompute ``consent_state`` from the ledger (inside the caller's transaction)."""
    await ConsentState.all().delete()
    last_id, rows = 0, 0
    latest: dict[tuple[uuid.UUID, str], ConsentEvent] = {}
    while True:
        page = await ConsentEvent.filter(id__gt=last_id).order_by("id").limit(batch)
        if not page:
            break
        for event in page:
            latest[(event.lead_id, event.purpose)] = event
        last_id = page[-1].id
    states = [state_row(e) for e in latest.values()]
    for start in range(0, len(states), batch):
        await ConsentState.bulk_create(states[start : start + batch])
        rows += len(states[start : start + batch])
    return rows


def _current(row: ConsentState) -> CurrentConsent:
    return CurrentConsent(
        purpose=row.purpose,
        status=ConsentKind(row.status),
        basis=LawfulBasis(row.basis),
        notice_version=row.notice_version,
        source=ConsentSource(row.source),
        since=row.since,
        expires_at=row.expires_at,
    )


async def current_states(
    lead_ids: Sequence[uuid.UUID],
) -> dict[uuid.UUID, dict[str, CurrentConsent]]:
    found: dict[uuid.UUID, dict[str, CurrentConsent]] = defaultdict(dict)
    if lead_ids:
        for row in await ConsentState.filter(lead_id__in=list(lead_ids)):
            found[row.lead_id][row.purpose] = _current(row)
    return found


def allowing(purpose: str, now: datetime | None = None) -> QuerySet[ConsentState]:
    """States that allow ``purpose`` now: granted and not lapsed."""
    when = now or datetime.now(UTC)
    return ConsentState.filter(purpose=purpose, status=ConsentKind.GRANTED.value).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=when)
    )


def leads_allowing(purpose: str, now: datetime | None = None) -> Subquery:
    """A subquery of the lead ids whose state allows ``purpose``, for ``id__in`` filters,
    so enforcement happens in SQL and never loads rows it would drop."""
    return Subquery(allowing(purpose, now).values("lead_id"))


async def consented_ids(lead_ids: Sequence[uuid.UUID], purpose: str) -> set[uuid.UUID]:
    column = ConsentState._meta.fields_map["lead_id"]
    keys = await consented_keys([column.to_db_value(i, ConsentState) for i in lead_ids], purpose)
    return {uuid.UUID(key) for key in keys}


async def consented_keys(
    db_ids: Sequence[Any], purpose: str, now: datetime | None = None
) -> set[str]:
    """Which of these leads (ids as the database holds them) :func:`allowing` lets through,
    as strings, in one statement: the rule stays the query's, the thousands of ids are bound
    without the ORM building a term for each (the batch path of scoring)."""
    if not db_ids:
        return set()
    text, values = as_sql(allowing(purpose, now).values("lead_id"))
    db = connections.get("default")
    within = ", ".join(marks(db.capabilities.dialect, len(db_ids), start=len(values) + 1))
    rows = await db.execute_query(f'{text} AND "lead_id" IN ({within})', [*values, *db_ids])
    return {str(row[0]) for row in rows[1]}


class LedgerConsentLookup:
    """The access policy's view of consent: the ledger's current state."""

    async def consented(self, lead_ids: Sequence[uuid.UUID], purpose: str) -> set[uuid.UUID]:
        return await consented_ids(lead_ids, purpose)
