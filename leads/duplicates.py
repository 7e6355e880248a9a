"""Deduplication without an oracle.

A lead created (or changed) with the email of an existing lead used to be refused with
``DuplicateLead`` whatever the author could see, which confirmed to a rep, or to a marketer
who sees that email masked, that someone already holds a lead with it. Now:

- an author who may read the existing lead's email in clear still gets ``DuplicateLead``
  naming it (nothing is learnt that a lookup would not show);
- anyone else gets exactly the answer of an ordinary create: the lead is created, and the
  pair is flagged here for review by the people who may read the existing lead's email in
  clear (its owner, its team's manager). The author never sees the flag.

A reviewer decides "same person" or "different people"; the decision is recorded and
audited. Merging records is not automatic: the reviewer keeps one lead and disqualifies
the other with a reason, and each keeps its own history.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from audit.events import Event, Outcome, record
from compliance.access.decide import decide_now
from compliance.access.policy import required_policy
from compliance.access.rules import Access
from core.errors import NotFound
from identity.events import actor_of
from identity.principal import Principal
from leads.models import DuplicateStatus, Lead, PossibleDuplicate, subject_of
from leads.repository import LeadRepository


async def _reads_email(principal: Principal, lead: Lead) -> bool:
    decision = await decide_now(principal, required_policy("Lead", "email"), subject_of(lead))
    return decision.access is Access.REVEAL


async def shown_duplicate(repository: LeadRepository, ids: list[uuid.UUID]) -> uuid.UUID | None:
    """The first of the existing leads ``ids`` whose email the author may read in clear
    (then the create is refused naming it), or None."""
    for lead in await repository.readable().filter(id__in=ids).order_by("id"):
        if await _reads_email(repository.principal, lead):
            return lead.id
    return None


async def flag(
    principal: Principal, lead_id: uuid.UUID, existing: list[uuid.UUID], now: datetime
) -> None:
    """Flag ``lead_id`` as a possible duplicate of each lead in ``existing`` (call it in
    the transaction that creates or changes the lead)."""
    for existing_id in existing:
        await PossibleDuplicate.create(
            lead_id=lead_id, existing_id=existing_id, kind="email", found_at=now
        )
        await record(
            Event(
                "lead.duplicate.flagged",
                Outcome.SUCCESS,
                actor_of(principal),
                subject_ids=(str(lead_id), str(existing_id)),
                details={"kind": "email"},
            ),
            now=now,
        )


@dataclass(frozen=True, slots=True)
class Flag:
    row: PossibleDuplicate
    other_id: uuid.UUID | None
    """The other lead, when the viewer may read its email in clear too."""


async def _visible(principal: Principal, row: PossibleDuplicate) -> bool:
    """A flag is shown only to those who may read the existing lead's email in clear."""
    existing = await LeadRepository(principal).get(row.existing_id)
    return existing is not None and await _reads_email(principal, existing)


async def flags_for(principal: Principal, lead: Lead) -> list[Flag]:
    """The open and decided flags involving ``lead`` that ``principal`` may see."""
    rows = await PossibleDuplicate.filter(Q(lead_id=lead.id) | Q(existing_id=lead.id))
    repository = LeadRepository(principal)
    found = []
    for row in sorted(rows, key=lambda r: (r.found_at, str(r.id))):
        if not await _visible(principal, row):
            continue
        other_id = row.lead_id if row.existing_id == lead.id else row.existing_id
        other = await repository.get(other_id)
        shown = other is not None and await _reads_email(principal, other)
        found.append(Flag(row, other_id if shown else None))
    return found


async def resolve(
    principal: Principal, flag_id: uuid.UUID, same_person: bool, now: datetime
) -> PossibleDuplicate:
    """Record the review's decision; only someone the flag is shown to may make it."""
    row = await PossibleDuplicate.get_or_none(id=flag_id)
    if row is None or not await _visible(principal, row):
        raise NotFound("possible duplicate")
    row.status = DuplicateStatus.SAME_PERSON if same_person else DuplicateStatus.DIFFERENT_PEOPLE
    row.resolved_at, row.resolved_by_id = now, principal.user_id
    async with in_transaction("default"):
        await row.save(update_fields=["status", "resolved_at", "resolved_by_id"])
        await record(
            Event(
                "lead.duplicate.resolved",
                Outcome.SUCCESS,
                actor_of(principal),
                subject_ids=(str(row.lead_id), str(row.existing_id)),
                details={"decision": row.status.value},
            ),
            now=now,
        )
    return row
