"""Lead queries: thin resolvers over the scoped repository."""

from __future__ import annotations

import uuid

import strawberry

from core.cursors import InvalidCursor
from core.errors import ValidationFailed
from crypto.blind_index import IndexKind
from leads.repository import LeadRepository, list_campaigns
from schema.context import Context
from schema.errors import bad_input
from schema.leads.inputs import LeadFilter, LeadOrder
from schema.leads.related import Campaign
from schema.leads.types import Lead, LeadConnection, LeadEdge
from schema.pagination import PageInfo


@strawberry.type
class LeadQueries:
    @strawberry.field(description="Leads you may see, newest first unless ordered otherwise.")
    async def leads(
        self,
        info: strawberry.Info[Context],
        first: int = 20,
        after: str | None = None,
        filter: LeadFilter | None = None,
        order_by: LeadOrder | None = None,
    ) -> LeadConnection:
        ctx = info.context
        limit = ctx.limits.max_page_size
        if not 1 <= first <= limit:
            raise bad_input(f"first must be between 1 and {limit}", "first")
        try:
            domain_filter = (filter or LeadFilter()).to_domain()
        except ValidationFailed as failure:
            raise bad_input(failure.errors[0].message, failure.errors[0].field) from None
        order = (order_by or LeadOrder()).to_domain()
        repository = LeadRepository(ctx.principal)
        try:
            page = await repository.page(domain_filter, order, first, after)
        except InvalidCursor:
            raise bad_input("after is not a cursor of this list", "after") from None

        async def count() -> int:
            return await repository.count(domain_filter)

        edges = [
            LeadEdge(cursor=c, node=Lead.of(row))
            for row, c in zip(page.items, page.cursors, strict=True)
        ]
        end = page.cursors[-1] if page.cursors else None
        return LeadConnection(
            edges=edges,
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=end),
            _count=count,
        )

    @strawberry.field(
        description="A lead by id, or by exact email or phone (matched through a blind "
        "index, never a plaintext search); null if none exists or you may not see it."
    )
    async def lead(
        self,
        info: strawberry.Info[Context],
        id: strawberry.ID | None = None,
        email: str | None = None,
        phone: str | None = None,
    ) -> Lead | None:
        given = [name for name, value in (("id", id), ("email", email), ("phone", phone)) if value]
        if len(given) != 1:
            raise bad_input("give exactly one of id, email or phone", "id")
        repository = LeadRepository(info.context.principal)
        if id is not None:
            try:
                lead_id = uuid.UUID(id)
            except ValueError:
                return None
            row = await repository.get(lead_id)
        elif email is not None:
            row = await repository.find_by_contact(IndexKind.EMAIL, email)
        else:
            row = await repository.find_by_contact(IndexKind.PHONE, phone or "")
        return Lead.of(row) if row else None

    @strawberry.field
    async def campaigns(self) -> list[Campaign]:
        return [Campaign.of(row) for row in await list_campaigns()]
