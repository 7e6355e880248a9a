"""The access policy and break-glass grants, for auditors and admins (the gate lets only
the roles the policy names call these)."""

from __future__ import annotations

import strawberry

from compliance.access import break_glass, matrix
from schema.policy.types import AccessPolicy, BreakGlassGrant


@strawberry.type
class AccessQueries:
    @strawberry.field(description="Who sees which field of which lead. Auditors and admins.")
    def access_policy(self) -> AccessPolicy:
        return AccessPolicy.of(matrix.build())

    @strawberry.field(description="Break-glass grants, newest first (at most 100).")
    async def break_glass_grants(self, active_only: bool = False) -> list[BreakGlassGrant]:
        grants = await break_glass.list_grants(active_only=active_only)
        return [BreakGlassGrant.of(g) for g in grants]
