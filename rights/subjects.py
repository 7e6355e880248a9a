"""Finding the person's leads, and the purpose a compliance officer reads them under.

Lookup goes through the blind indexes of email and phone (every configured key version),
so it finds every lead holding the same normalised contact — duplicates included — without
decrypting anything. The officer assigned to a request in progress declares it as their
purpose (``X-LeadVault-Purpose: data_subject_request:<id>``) and then sees exactly these
leads in full; nobody else sees them through it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

from compliance.dsr.models import DataSubjectRequest, RequestStatus, RequestSubject
from crypto.blind_index import IndexKind
from crypto.vault import current_vault
from identity.principal import Principal
from identity.roles import Role
from leads.contacts import lead_ids_with

PURPOSE_KIND = "data_subject_request"
_READABLE = frozenset(
    {
        RequestStatus.VERIFIED,
        RequestStatus.IN_PROGRESS,
        RequestStatus.EXTENDED,
        RequestStatus.AWAITING_APPROVAL,
    }
)


async def find_subjects(contacts: Mapping[IndexKind, str | None]) -> dict[uuid.UUID, str]:
    """Lead id → what matched (``email``, ``phone`` or ``email+phone``)."""
    matched: dict[uuid.UUID, set[str]] = {}
    for kind, value in contacts.items():
        for lead_id in await lead_ids_with(kind, value) if value else ():
            matched.setdefault(lead_id, set()).add(kind.value)
    return {lead_id: "+".join(sorted(kinds)) for lead_id, kinds in matched.items()}


async def link_subjects(request: DataSubjectRequest) -> int:
    """Record every lead of the requester on the request (idempotent). Returns how many
    leads the request now covers."""
    from rights.requests import requester_contacts

    key = (await current_vault().subject_keys([request.id])).get(request.id)
    if key is None:
        return await RequestSubject.filter(request_id=request.id).count()
    found = await find_subjects(requester_contacts(request, key))
    known = set(
        await RequestSubject.filter(request_id=request.id).values_list("lead_id", flat=True)
    )
    rows = [
        RequestSubject(request_id=request.id, lead_id=lead_id, matched_on=matched)
        for lead_id, matched in found.items()
        if lead_id not in known
    ]
    if rows:
        await RequestSubject.bulk_create(rows)
    return len(known) + len(rows)


async def subject_ids(request_id: uuid.UUID) -> list[uuid.UUID]:
    return (await subject_ids_of([request_id])).get(request_id, [])


async def subject_ids_of(
    request_ids: Sequence[uuid.UUID],
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Each request's leads, for many requests in one query."""
    found: dict[uuid.UUID, list[uuid.UUID]] = {}
    rows = (
        await RequestSubject.filter(request_id__in=list(request_ids))
        .order_by("id")
        .values_list("request_id", "lead_id")
    )
    for request_id, lead_id in rows:
        found.setdefault(request_id, []).append(lead_id)
    return found


class RequestPurposes:
    """The purpose provider for ``data_subject_request:<id>``: open only to the compliance
    officer the request is assigned to, while the request is verified and not closed."""

    kind = PURPOSE_KIND

    async def subjects(self, principal: Principal, reference: str) -> frozenset[uuid.UUID] | None:
        if principal.role is not Role.COMPLIANCE_OFFICER or principal.user_id is None:
            return None
        try:
            request_id = uuid.UUID(reference)
        except ValueError:
            return None
        request = await DataSubjectRequest.get_or_none(id=request_id)
        if (
            request is None
            or request.status not in _READABLE
            or request.assigned_to_id != principal.user_id
        ):
            return None
        return frozenset(await subject_ids(request.id))
