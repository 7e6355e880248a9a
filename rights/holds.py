"""Legal holds: data that must be kept whatever erasure or retention would do.

A hold covers one lead (``subject``) or a whole data category (``category``, see
:class:`compliance.categories.DataCategory`), has a reason (sealed: it may name people), an
owner who answers for it, and optionally an expiry. While active it blocks erasure and
retention of what it covers; the request or job records that it was held and by which hold.
Placing and releasing are audited.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from audit.events import Event, Outcome, Target, record
from compliance.categories import DataCategory
from compliance.dsr.models import HoldScope, LegalHold
from core.errors import FieldError, NotFound, ValidationFailed
from crypto.vault import current_vault, location_of, seal_secret
from identity.models import StaffUser
from leads.models import Lead
from rights.officers import Officer, actor_of, authorize, user_id_of


def _active(now: datetime) -> Q:
    return Q(released_at__isnull=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))


async def place(
    officer: Officer,
    *,
    reason: str,
    owner_id: uuid.UUID,
    lead_id: uuid.UUID | None = None,
    category: str | None = None,
    expires_at: datetime | None = None,
    now: datetime,
) -> LegalHold:
    authorize(officer)
    errors: list[FieldError] = []
    if (lead_id is None) == (category is None):
        errors.append(FieldError("lead_id", "required", "give exactly one of leadId or category"))
    if category is not None and category not in {c.value for c in DataCategory}:
        allowed = ", ".join(c.value for c in DataCategory)
        errors.append(FieldError("category", "invalid", f"one of: {allowed}"))
    if lead_id is not None and not await Lead.exists(id=lead_id):
        errors.append(FieldError("lead_id", "not_found", "no such lead"))
    reason = reason.strip()
    if not reason or len(reason) > 1000:
        errors.append(FieldError("reason", "invalid", "required, at most 1000 characters"))
    owner = await StaffUser.get_or_none(id=owner_id)
    if owner is None or not owner.is_active:
        errors.append(FieldError("owner_id", "invalid", "must be an active member of staff"))
    if expires_at is not None and expires_at <= now:
        errors.append(FieldError("expires_at", "past", "must be in the future"))
    if errors:
        raise ValidationFailed(errors)
    hold_id = uuid.uuid4()
    async with in_transaction("default"):
        hold = await LegalHold.create(
            id=hold_id,
            scope=HoldScope.SUBJECT if lead_id is not None else HoldScope.CATEGORY,
            lead_id=lead_id,
            category=category,
            reason=seal_secret(current_vault(), location_of(LegalHold, "reason", hold_id), reason),
            owner_id=owner_id,
            placed_by_id=user_id_of(officer),
            placed_at=now,
            expires_at=expires_at,
        )
        await record(
            Event(
                action="legal_hold.placed",
                outcome=Outcome.SUCCESS,
                actor=actor_of(officer),
                target=Target("legal_hold", str(hold.id)),
                subject_ids=(str(lead_id),) if lead_id else (),
                details={"scope": hold.scope.value, "category": category},
            ),
            now=now,
        )
    return hold


async def release(officer: Officer, hold_id: uuid.UUID, now: datetime) -> LegalHold:
    authorize(officer)
    async with in_transaction("default"):
        hold = await LegalHold.filter(id=hold_id).select_for_update().first()
        if hold is None:
            raise NotFound("legal_hold")
        if hold.released_at is None:
            hold.released_at, hold.released_by_id = now, user_id_of(officer)
            await hold.save(update_fields=["released_at", "released_by_id"])
            await record(
                Event(
                    action="legal_hold.released",
                    outcome=Outcome.SUCCESS,
                    actor=actor_of(officer),
                    target=Target("legal_hold", str(hold.id)),
                    subject_ids=(str(hold.lead_id),) if hold.lead_id else (),
                    details={"scope": hold.scope.value, "category": hold.category},
                ),
                now=now,
            )
    return hold


async def list_holds(officer: Officer, now: datetime, *, active_only: bool) -> list[LegalHold]:
    authorize(officer)
    query = LegalHold.filter(_active(now)) if active_only else LegalHold.all()
    return await query.order_by("-placed_at").limit(500)


async def category_hold(category: DataCategory, now: datetime) -> uuid.UUID | None:
    """The id of an active hold on the whole category, if any."""
    hold = await LegalHold.filter(_active(now), category=category.value).first()
    return hold.id if hold else None


async def subject_holds(lead_ids: Iterable[uuid.UUID], now: datetime) -> dict[uuid.UUID, uuid.UUID]:
    """Lead id → an active hold on that lead, for the given leads that have one."""
    wanted = list(lead_ids)
    if not wanted:
        return {}
    rows = await LegalHold.filter(_active(now), lead_id__in=wanted).values_list("lead_id", "id")
    return {lead_id: hold_id for lead_id, hold_id in rows}


def held_lead_ids(now: datetime) -> Subquery:
    """Ids of leads under an active subject hold, to embed in a query."""
    return Subquery(LegalHold.filter(_active(now), lead_id__isnull=False).values("lead_id"))


def held_leads(now: datetime) -> Q:
    """Leads under an active subject hold, as a condition for excluding them."""
    return Q(id__in=held_lead_ids(now))
