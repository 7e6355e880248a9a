"""Who am I, my sessions, and the administrators' lists."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError

from identity import accounts, clock, key_admin, sessions
from identity import errors as domain
from identity.models import StaffSession
from schema.auth.types import ApiKey, Me, SessionInfo, StaffAccount
from schema.context import Context


def _forbidden(error: domain.Forbidden) -> GraphQLError:
    return GraphQLError(str(error), extensions={"code": "FORBIDDEN"})


@strawberry.type
class AuthQueries:
    @strawberry.field(description="The signed-in member of staff and this session.")
    async def me(self, info: strawberry.Info[Context]) -> Me:
        context = info.context
        session: StaffSession | None = context.auth.session
        if session is None or context.auth.user is None:
            raise _forbidden(domain.Forbidden("an API key has no account"))
        return Me(
            account=StaffAccount.of(context.auth.user),
            session=SessionInfo.of(session, context.auth_policy),
        )

    @strawberry.field(description="Your sessions that have not ended.")
    async def my_sessions(self, info: strawberry.Info[Context]) -> list[SessionInfo]:
        principal, policy = info.context.principal, info.context.auth_policy
        if principal.user_id is None:
            return []
        rows = await sessions.live_sessions(principal.user_id, policy, clock.now())
        return [SessionInfo.of(row, policy) for row in rows]

    @strawberry.field(description="Every staff account (administrators only).")
    async def staff_users(self, info: strawberry.Info[Context]) -> list[StaffAccount]:
        try:
            statuses = await accounts.list_users(info.context.principal)
        except domain.Forbidden as error:
            raise _forbidden(error) from None
        return [StaffAccount.of(status.user, status.locked) for status in statuses]

    @strawberry.field(description="Every API key, revoked ones included (administrators only).")
    async def api_keys(self, info: strawberry.Info[Context]) -> list[ApiKey]:
        try:
            keys = await key_admin.list_keys(info.context.principal)
        except domain.Forbidden as error:
            raise _forbidden(error) from None
        return [ApiKey.of(key) for key in keys]
