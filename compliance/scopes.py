"""Row scopes: which leads a principal may load at all.

A row outside a principal's scope is never loaded, so it cannot leak through nesting,
filters, ordering, cursors or counts. Repositories apply :func:`lead_scope` to every read.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from server.auth.principal import Principal
from server.auth.roles import Role
from server.auth.scopes import ApiScope


class RowScope(enum.StrEnum):
    OWN = "own"
    TEAM = "team"
    ALL = "all"
    NONE = "none"


ROLE_SCOPES: dict[Role, RowScope] = {
    Role.SALES_REP: RowScope.OWN,
    Role.SALES_MANAGER: RowScope.TEAM,
    Role.MARKETER: RowScope.ALL,
    Role.ANALYST: RowScope.ALL,
    Role.COMPLIANCE_OFFICER: RowScope.NONE,
    Role.AUDITOR: RowScope.NONE,
    Role.ADMIN: RowScope.NONE,
}


@dataclass(frozen=True, slots=True)
class LeadScope:
    """The filter a principal's lead reads get: ``None`` fields mean unrestricted."""

    kind: RowScope
    owner_id: object = None
    team_id: int | None = None


def lead_scope(principal: Principal, *, writing_under: ApiScope | None = None) -> LeadScope:
    """Service principals (API keys) have no role and read no leads. A key holding
    ``writing_under`` may address any lead by id for that one write (recording an activity
    returns nothing about the lead)."""
    if principal.role is None:
        if writing_under is not None and principal.has_scope(writing_under):
            return LeadScope(RowScope.ALL)
        return LeadScope(RowScope.NONE)
    scope = ROLE_SCOPES[principal.role]
    if scope is RowScope.OWN:
        if principal.user_id is None:
            return LeadScope(RowScope.NONE)
        return LeadScope(RowScope.OWN, owner_id=principal.user_id)
    if scope is RowScope.TEAM:
        if principal.team_id is None:
            return LeadScope(RowScope.NONE)
        return LeadScope(RowScope.TEAM, team_id=principal.team_id)
    return LeadScope(scope)
