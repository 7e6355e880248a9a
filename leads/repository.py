"""Every lead-domain query. Reads start from :meth:`LeadRepository.readable`, the principal's
scope, so a row the principal may not see is never loaded."""

from __future__ import annotations

import enum
import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from compliance.access.decide import decide_now
from compliance.access.policy import required_policy
from compliance.access.rules import Access
from compliance.consent.purposes import EMAIL_MARKETING
from compliance.consent.state import leads_allowing
from compliance.scopes import LeadScope, RowScope, row_filter
from core.bulk import as_sql, marks
from core.cursors import Page, SortDirection
from crypto.blind_index import IndexKind
from crypto.cursors import open_cursor, seal_cursor
from identity.models import StaffUser, Team
from identity.principal import Principal
from identity.scopes import ApiScope
from leads.contacts import lead_ids_with
from leads.enums import ActivityType, Source, Stage, Status
from leads.models import Activity, Campaign, Lead, StageChange, subject_of

_CONTACT_FIELDS = {IndexKind.EMAIL: "email", IndexKind.PHONE: "phone"}


class LeadOrderField(enum.StrEnum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    STAGE_ENTERED_AT = "stage_entered_at"
    SCORE = "score"


_ORDER_TYPES: dict[LeadOrderField, type] = {
    LeadOrderField.CREATED_AT: datetime,
    LeadOrderField.UPDATED_AT: datetime,
    LeadOrderField.STAGE_ENTERED_AT: datetime,
    LeadOrderField.SCORE: int,
}


@dataclass(frozen=True, slots=True)
class LeadFilter:
    stages: Sequence[Stage] = ()
    statuses: Sequence[Status] = ()
    sources: Sequence[Source] = ()
    owner_id: uuid.UUID | None = None
    unassigned: bool | None = None
    team_id: int | None = None
    campaign_id: int | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    reengageable: bool | None = None
    """True: the re-engagement list (cold leads that consent to email marketing now)."""


@dataclass(frozen=True, slots=True)
class LeadOrder:
    field: LeadOrderField = LeadOrderField.CREATED_AT
    direction: SortDirection = SortDirection.DESC

    @property
    def cursor_kind(self) -> str:
        return f"lead:{self.field.value}:{self.direction.value}"


class LeadRow:
    """A lead read for display: only the columns a read asked for, as attributes (named as
    on :class:`~leads.models.Lead`), without the cost of building a model. Reading a column
    that was not loaded is an error, never a silent ``None``."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = values

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None


class LeadRepository:
    def __init__(
        self, principal: Principal, *, writing_under: ApiScope | None = None, writing: bool = False
    ) -> None:
        self.principal = principal
        self.writing_under = writing_under
        self.writing = writing

    def scope_key(self) -> tuple[LeadScope, str | None]:
        """What :meth:`readable` filters by: two repositories with equal keys read the same
        leads (subscriptions share one load of a message's leads between them)."""
        return row_filter(self.principal, writing_under=self.writing_under, writing=self.writing)

    def readable(self) -> QuerySet[Lead]:
        """The leads this repository's principal may load (or change, when writing)."""
        scope, basis = self.scope_key()
        query = Lead.all()
        if basis is not None:
            query = query.filter(id__in=leads_allowing(basis))
        if scope.kind is RowScope.ALL:
            return query
        if scope.kind is RowScope.OWN:
            return query.filter(owner_id=scope.owner_id)
        if scope.kind is RowScope.TEAM:
            return query.filter(team_id=scope.team_id)
        if scope.kind is RowScope.PURPOSE:
            return query.filter(id__in=sorted(scope.lead_ids))
        return query.filter(Q(pk__isnull=True))

    def matching(self, lead_filter: LeadFilter) -> QuerySet[Lead]:
        """The readable leads that match ``lead_filter`` (every list, count and report
        starts here)."""
        query = self.readable()
        f = lead_filter
        if f.stages:
            query = query.filter(stage__in=list(f.stages))
        if f.statuses:
            query = query.filter(status__in=list(f.statuses))
        if f.sources:
            query = query.filter(source__in=list(f.sources))
        if f.owner_id is not None:
            query = query.filter(owner_id=f.owner_id)
        if f.unassigned is True:
            query = query.filter(owner_id__isnull=True)
        elif f.unassigned is False:
            query = query.filter(owner_id__isnull=False)
        if f.team_id is not None:
            query = query.filter(team_id=f.team_id)
        if f.campaign_id is not None:
            query = query.filter(campaign_id=f.campaign_id)
        if f.created_from is not None:
            query = query.filter(created_at__gte=f.created_from)
        if f.created_to is not None:
            query = query.filter(created_at__lt=f.created_to)
        if f.reengageable:
            query = query.filter(status=Status.COLD, id__in=leads_allowing(EMAIL_MARKETING))
        return query

    async def get(self, lead_id: uuid.UUID) -> Lead | None:
        return await self.readable().filter(id=lead_id).first()

    async def get_for_update(self, lead_id: uuid.UUID) -> Lead | None:
        return await self.readable().filter(id=lead_id).select_for_update().first()

    def _window(
        self, lead_filter: LeadFilter, order: LeadOrder, after: str | None
    ) -> QuerySet[Lead]:
        """The matching leads after the cursor, in the page's order."""
        column = order.field.value
        query = self.matching(lead_filter)
        descending = order.direction is SortDirection.DESC
        if after is not None:
            value, row_id = open_cursor(
                after,
                order.cursor_kind,
                self.principal.cursor_binding,
                _ORDER_TYPES[order.field],
                uuid.UUID,
            )
            op = "lt" if descending else "gt"
            query = query.filter(
                Q(**{f"{column}__{op}": value})
                | (Q(**{column: value}) & Q(**{f"id__{op}": row_id}))
            )
        prefix = "-" if descending else ""
        return query.order_by(f"{prefix}{column}", f"{prefix}id")

    def _paged(
        self, rows: Sequence[Any], order: LeadOrder, first: int, sealed: bool = True
    ) -> Page[Any]:
        items = list(rows[:first])
        column = order.field.value
        binding = self.principal.cursor_binding
        kind = order.cursor_kind
        cursors = [
            seal_cursor(kind, binding, getattr(r, column), r.id) if sealed else "" for r in items
        ]
        return Page(items=items, cursors=cursors, has_next_page=len(rows) > first)

    async def page(
        self, lead_filter: LeadFilter, order: LeadOrder, first: int, after: str | None
    ) -> Page[Lead]:
        rows = await self._window(lead_filter, order, after).limit(first + 1)
        return self._paged(rows, order, first)

    async def page_rows(
        self,
        lead_filter: LeadFilter,
        order: LeadOrder,
        first: int,
        after: str | None,
        columns: Iterable[str],
        *,
        sealed: bool = True,
    ) -> Page[LeadRow]:
        """:meth:`page`, reading only ``columns`` (the id, owner, team and sort column
        always) into :class:`LeadRow` values rather than models; ``sealed=False`` for a
        read that shows no cursor (the page's cursors are empty)."""
        wanted = {"id", "owner_id", "team_id", order.field.value, *columns}
        query = self._window(lead_filter, order, after).limit(first + 1)
        rows = await query.values(*sorted(wanted))
        return self._paged([LeadRow(row) for row in rows], order, first, sealed)

    async def count(self, lead_filter: LeadFilter) -> int:
        return await self.matching(lead_filter).count()

    async def find_by_contact(self, kind: IndexKind, value: str) -> Lead | None:
        """The newest lead in scope whose email/phone matches, through the blind index, if
        the principal may read that field of it: a lookup must not confirm a value the
        policy masks or denies."""
        ids = await lead_ids_with(kind, value)
        if not ids:
            return None
        row = await self.readable().filter(id__in=ids).order_by("-created_at").first()
        if row is None:
            return None
        policy = required_policy("Lead", _CONTACT_FIELDS[kind])
        decision = await decide_now(self.principal, policy, subject_of(row))
        return row if decision.access is Access.REVEAL else None

    async def first_readable(self, lead_ids: Sequence[uuid.UUID]) -> Lead | None:
        """The first of ``lead_ids`` the principal may see, in one query."""
        return await self.readable().filter(id__in=list(lead_ids)).order_by("id").first()


ACTIVITY_CURSOR_KIND = "activity"
_ACTIVITY_TYPES = {t.value: t for t in ActivityType}


@dataclass(slots=True)
class ActivityRow:
    """A read-only activity as listed under a lead: built straight from the row, without the
    cost of a full ORM instance (a page of 100 leads lists hundreds of these). Not frozen
    only because a frozen dataclass takes several times longer to build; nothing writes
    to one."""

    id: int
    lead_id: uuid.UUID
    type: ActivityType
    occurred_at: datetime
    campaign_id: int | None
    details: dict[str, Any]

    @classmethod
    def from_db(
        cls, row: Mapping[str, Any], known: Mapping[str, uuid.UUID] | None = None
    ) -> ActivityRow:
        """``known``: lead ids by their text, to skip parsing each row's; a row read
        without its ``details`` column has empty details."""
        occurred = row["occurred_at"]
        if isinstance(occurred, str):
            occurred = datetime.fromisoformat(occurred)
        if occurred.tzinfo is None:
            occurred = occurred.replace(tzinfo=UTC)
        details = row.get("details")
        lead_id = row["lead_id"]
        if not isinstance(lead_id, uuid.UUID):
            lead_id = (known or {}).get(lead_id) or uuid.UUID(lead_id)
        return cls(
            id=int(row["id"]),
            lead_id=lead_id,
            type=_ACTIVITY_TYPES.get(row["type"]) or ActivityType(row["type"]),
            occurred_at=occurred,
            campaign_id=row["campaign_id"],
            details=json.loads(details) if isinstance(details, str) else dict(details or {}),
        )


async def activity_pages(
    lead_ids: Sequence[uuid.UUID],
    first: int,
    after: str | None,
    binding: str,
    *,
    sealed: bool = True,
    details: bool = True,
) -> dict[uuid.UUID, Page[ActivityRow]]:
    """The newest ``first`` activities of each lead (after the cursor), in one query;
    cursors are bound to ``binding`` (the principal's :attr:`~Principal.cursor_binding`).
    ``sealed=False``: for a read that shows no cursor, the pages carry empty ones (sealing
    hundreds of cursors nobody asked for is most of a page's cost); ``details=False``: the
    ``details`` column is not read (the rows' details are empty).

    Callers pass ids of leads they have already loaded through a scoped read.
    """
    if not lead_ids:
        return {}
    # the cursor's condition through the ORM (its values bound as the ORM stores them);
    # the page's lead ids bound directly, without the ORM building a term for each
    position = Q(occurred_at__isnull=False)
    if after is not None:
        when, row_id = open_cursor(after, ACTIVITY_CURSOR_KIND, binding, datetime, int)
        position = Q(occurred_at__lt=when) | (Q(occurred_at=when) & Q(id__lt=row_id))
    columns = [*_ACTIVITY_COLUMNS, "details"] if details else _ACTIVITY_COLUMNS
    rows = await _first_per_lead(
        Activity.filter(position).only(*columns), list(lead_ids), first + 1
    )
    grouped: dict[uuid.UUID, list[ActivityRow]] = defaultdict(list)
    for row in rows:
        grouped[row.lead_id].append(row)
    pages: dict[uuid.UUID, Page[ActivityRow]] = {}
    for lead_id in lead_ids:
        items = grouped.get(lead_id, [])
        shown = items[:first]
        pages[lead_id] = Page(
            items=shown,
            cursors=[
                seal_cursor(ACTIVITY_CURSOR_KIND, binding, a.occurred_at, a.id) if sealed else ""
                for a in shown
            ],
            has_next_page=len(items) > first,
        )
    return pages


_ACTIVITY_COLUMNS = ["id", "lead_id", "type", "occurred_at", "campaign_id"]


async def _first_per_lead(
    query: QuerySet[Activity], lead_ids: list[uuid.UUID], limit: int
) -> list[ActivityRow]:
    """The first ``limit`` rows of ``query`` for each of ``lead_ids``, newest first,
    numbered by a window function.

    The inner query keeps its bound parameters (inlining them would compare datetimes as
    differently formatted text on SQLite).
    """
    text, params = as_sql(query)
    head, condition = text.split(" WHERE ", 1)  # the query has a condition, and no order
    db = query._db
    column = Activity._meta.fields_map["lead_id"]
    ids = [column.to_db_value(i, Activity) for i in lead_ids]
    within = ", ".join(marks(db.capabilities.dialect, len(ids), start=len(params) + 1))
    sql = (
        "SELECT * FROM (SELECT t.*, ROW_NUMBER() OVER "  # noqa: S608 - built from a query set
        "(PARTITION BY t.lead_id ORDER BY t.occurred_at DESC, t.id DESC) AS row_rank "
        f'FROM ({head} WHERE ({condition}) AND "lead_id" IN ({within})) t) ranked '
        f"WHERE row_rank <= {int(limit)} ORDER BY lead_id, row_rank"
    )
    rows = await db.execute_query_dict(sql, [*params, *ids])
    known = {str(i): i for i in lead_ids}
    return [ActivityRow.from_db(row, known) for row in rows]


async def stage_changes_for(lead_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[StageChange]]:
    grouped: dict[uuid.UUID, list[StageChange]] = defaultdict(list)
    ids = list(lead_ids)
    if ids:
        for change in await StageChange.filter(lead_id__in=ids).order_by("changed_at", "id"):
            grouped[change.lead_id].append(change)
    return grouped


async def staff_by_ids(ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, StaffUser]:
    wanted = list(set(ids))
    return {u.id: u for u in await StaffUser.filter(id__in=wanted)} if wanted else {}


async def campaigns_by_ids(ids: Iterable[int]) -> dict[int, Campaign]:
    wanted = list(set(ids))
    return {c.id: c for c in await Campaign.filter(id__in=wanted)} if wanted else {}


async def teams_by_ids(ids: Iterable[int]) -> dict[int, Team]:
    wanted = list(set(ids))
    return {t.id: t for t in await Team.filter(id__in=wanted)} if wanted else {}


async def campaign_exists(campaign_id: int) -> bool:
    return await Campaign.filter(id=campaign_id).exists()


async def active_staff(user_id: uuid.UUID) -> StaffUser | None:
    return await StaffUser.filter(id=user_id, is_active=True).first()


async def list_campaigns() -> list[Campaign]:
    return await Campaign.all().order_by("-starts_on", "id")
