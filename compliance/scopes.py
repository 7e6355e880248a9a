"""Row scopes: which leads a principal may load at all.

A row outside a principal's scope is never loaded, so it cannot leak through nesting,
filters, ordering, cursors or counts. Repositories apply :func:`lead_scope` to every read;
the scopes themselves are declared in :data:`compliance.access.policy.ROW_SCOPES`.
"""

from __future__ import annotations

import uuid
from collections.abc import Hashable
from dataclasses import dataclass

from compliance.access.decide import Subject, relation
from compliance.access.policy import AUDIT_SUBJECT_SCOPES, ROW_BASIS, ROW_SCOPES, WRITE_SCOPES
from compliance.access.rules import Actor, RowScope
from identity.principal import Principal
from identity.scopes import ApiScope

__all__ = ["LeadScope", "RowScope", "lead_scope", "reading_view", "row_filter"]


@dataclass(frozen=True, slots=True)
class LeadScope:
    """The filter a principal's lead reads get: ``None`` fields mean unrestricted."""

    kind: RowScope
    owner_id: object = None
    team_id: int | None = None
    lead_ids: frozenset[uuid.UUID] = frozenset()


def lead_scope(
    principal: Principal, *, writing_under: ApiScope | None = None, writing: bool = False
) -> LeadScope:
    """Service principals (API keys) read no leads. A key holding ``writing_under`` may
    address any lead by id for that one write (recording an activity returns nothing about
    the lead). A break-glass grant widens reads to every lead, never writes."""
    if principal.role is None:
        if writing_under is not None and principal.has_scope(writing_under):
            return LeadScope(RowScope.ALL)
        return LeadScope(RowScope.NONE)
    if principal.break_glass_active and not writing and writing_under is None:
        return LeadScope(RowScope.ALL)
    table = WRITE_SCOPES if writing or writing_under is not None else ROW_SCOPES
    scope = table[Actor.of_role(principal.role)]
    if scope is RowScope.OWN:
        if principal.user_id is None:
            return LeadScope(RowScope.NONE)
        return LeadScope(RowScope.OWN, owner_id=principal.user_id)
    if scope is RowScope.TEAM:
        if principal.team_id is None:
            return LeadScope(RowScope.NONE)
        return LeadScope(RowScope.TEAM, team_id=principal.team_id)
    if scope is RowScope.PURPOSE:
        if not principal.purpose_subjects:
            return LeadScope(RowScope.NONE)
        return LeadScope(RowScope.PURPOSE, lead_ids=principal.purpose_subjects)
    return LeadScope(scope)


def row_filter(
    principal: Principal, *, writing_under: ApiScope | None = None, writing: bool = False
) -> tuple[LeadScope, str | None]:
    """What a principal's lead reads are filtered by: the row scope (:func:`lead_scope`)
    and the consent purpose a row must allow (:data:`ROW_BASIS`; none under break-glass)."""
    scope = lead_scope(principal, writing_under=writing_under, writing=writing)
    basis = ROW_BASIS.get(Actor.of_role(principal.role))
    return scope, None if principal.break_glass_active else basis


def may_read_subject_audit(principal: Principal, subject_id: uuid.UUID) -> bool:
    scope = AUDIT_SUBJECT_SCOPES.get(Actor.of_role(principal.role), RowScope.NONE)
    if scope is RowScope.ALL:
        return True
    return scope is RowScope.PURPOSE and subject_id in principal.purpose_subjects


def reading_view(principal: Principal, subject: Subject) -> Hashable:
    """Everything a read of ``subject``'s lead takes from ``principal``: the row scope and
    the consent basis rows need (:func:`row_filter`), and what its field decisions read
    (the role, how the row relates to it, the purpose it declared and that purpose's
    subjects, a break-glass grant). Two principals with equal
    views are shown that lead alike (subscriptions resolve a payload once for all of them);
    who they are is not part of the view, and is what each one's audit event records."""
    return (
        principal.role,
        principal.team_id,
        row_filter(principal),
        relation(principal, subject),
        principal.purpose,
        principal.purpose_subjects,
        principal.break_glass_grant_id,
        principal.api_key_id,
        principal.scopes,
    )
