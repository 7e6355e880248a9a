"""The GraphQL schema: types, queries and mutations per domain, and the typed context."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import strawberry
from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig

from schema.auth.admin import AdminMutations
from schema.auth.queries import AuthQueries
from schema.auth.sign_in import SignInMutations
from schema.gate import AuthenticationGate
from schema.leads.mutations import LeadMutations
from schema.leads.queries import LeadQueries

MAX_DEPTH = 8
MAX_TOKENS = 5000
MAX_ALIASES = 30


@strawberry.type
class Query(LeadQueries, AuthQueries):
    pass


@strawberry.type
class Mutation(LeadMutations, SignInMutations, AdminMutations):
    pass


def build_schema(*, production: bool) -> strawberry.Schema:
    """The schema; in production introspection is off and field suggestions are disabled."""
    extensions: list[Callable[[], SchemaExtension]] = [
        AuthenticationGate,
        partial(QueryDepthLimiter, max_depth=MAX_DEPTH),
        partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
        partial(MaxAliasesLimiter, max_alias_count=MAX_ALIASES),
    ]
    if production:
        extensions.append(DisableIntrospection)
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,
        config=StrawberryConfig(auto_camel_case=True),
    )
