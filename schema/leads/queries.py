"""Lead queries: thin resolvers over the scoped repository."""

from __future__ import annotations

import uuid

import strawberry

from compliance.access.masking import PseudonymMask
from core.cursors import InvalidCursor
from core.errors import ValidationFailed
from crypto.blind_index import IndexKind
from identity.principal import Principal
from leads import models
from leads import repository as domain
from leads.models import subject_of
from leads.repository import LeadRepository, list_campaigns
from schema.access.state import id_is_pseudonymous, pseudonym_candidates
from schema.context import Context
from schema.errors import bad_field, bad_input
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
        repository, domain_filter, order = page_request(
            info.context, first, filter=filter, order_by=order_by
        )
        try:
            page = await repository.page(domain_filter, order, first, after)
        except InvalidCursor as refused:
            raise bad_input(str(refused), "after") from None

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
        row = await find_lead(info.context.principal, id=id, email=email, phone=phone)
        return Lead.of(row) if row else None

    @strawberry.field
    async def campaigns(self) -> list[Campaign]:
        return [Campaign.of(row) for row in await list_campaigns()]


def page_request(
    ctx: Context, first: int, *, filter: LeadFilter | None, order_by: LeadOrder | None
) -> tuple[LeadRepository, domain.LeadFilter, domain.LeadOrder]:
    """The checked arguments of a page of leads (``leads``), or a typed error naming the
    argument."""
    limit = ctx.limits.max_page_size
    if not 1 <= first <= limit:
        raise bad_input(f"first must be between 1 and {limit}", "first")
    try:
        domain_filter = (filter or LeadFilter()).to_domain()
    except ValidationFailed as failure:
        raise bad_field(failure) from None
    order = (order_by or LeadOrder()).to_domain()
    return LeadRepository(ctx.principal), domain_filter, order


async def find_lead(
    principal: Principal, *, id: str | None, email: str | None, phone: str | None
) -> models.Lead | None:
    """The lead ``lead(id|email|phone)`` answers with: exactly one of the three is given."""
    given = [name for name, value in (("id", id), ("email", email), ("phone", phone)) if value]
    if len(given) != 1:
        raise bad_input("give exactly one of id, email or phone", "id")
    repository = LeadRepository(principal)
    if id is not None:
        return await _by_id(repository, principal, id)
    if email is not None:
        return await repository.find_by_contact(IndexKind.EMAIL, email)
    return await repository.find_by_contact(IndexKind.PHONE, phone or "")


async def _by_id(
    repository: LeadRepository, principal: Principal, given: str
) -> models.Lead | None:
    """A lead by its id, or by the pseudonym a pseudonymous reader sees instead; such a
    reader never finds a lead by its real id (that would link the two)."""
    if given.startswith(PseudonymMask.PREFIX):
        for lead_id in pseudonym_candidates(given):
            found = await repository.get(lead_id)
            if found is not None:
                return found
        return None
    try:
        lead_id = uuid.UUID(given)
    except ValueError:
        return None
    row = await repository.get(lead_id)
    if row is None or id_is_pseudonymous(principal, subject_of(row)):
        return None
    return row
