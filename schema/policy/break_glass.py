"""Requesting and ending break-glass access."""

from __future__ import annotations

from typing import Annotated

import strawberry

from compliance.access import break_glass
from core.errors import ValidationFailed
from identity import errors as domain
from schema.auth.errors import CodeRejected, Forbidden, TooManyAttempts, failure_of
from schema.context import Context
from schema.errors import ValidationErrors
from schema.policy.types import BreakGlassGrant


@strawberry.type(description="You already hold an active grant; nothing was changed.")
class BreakGlassAlreadyActive:
    message: str
    grant: BreakGlassGrant


RequestBreakGlassResult = Annotated[
    BreakGlassGrant
    | ValidationErrors
    | CodeRejected
    | TooManyAttempts
    | Forbidden
    | BreakGlassAlreadyActive,
    strawberry.union("RequestBreakGlassResult"),
]


@strawberry.type
class BreakGlassMutations:
    @strawberry.mutation(
        description="Elevated read access to every lead for up to 60 minutes, with a written "
        "reason and a fresh TOTP code (recovery codes are not accepted). Takes effect from "
        "your next request; every use is recorded for auditors."
    )
    async def request_break_glass(
        self, info: strawberry.Info[Context], reason: str, code: str, minutes: int = 30
    ) -> RequestBreakGlassResult:
        ctx = info.context
        try:
            grant = await break_glass.request(ctx.principal, reason, minutes, code, ctx.auth_policy)
        except ValidationFailed as failure:
            return ValidationErrors.of(failure)
        except break_glass.BreakGlassActive as active:
            return BreakGlassAlreadyActive(
                message=str(active), grant=BreakGlassGrant.of(break_glass.view(active.grant))
            )
        except (domain.CodeRejected, domain.TooManyAttempts, domain.Forbidden) as error:
            return failure_of(error)
        return BreakGlassGrant.of(grant)

    @strawberry.mutation(description="End your break-glass grant now; null if you hold none.")
    async def end_break_glass(self, info: strawberry.Info[Context]) -> BreakGlassGrant | None:
        ended = await break_glass.end(info.context.principal)
        return BreakGlassGrant.of(ended) if ended else None
