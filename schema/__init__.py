"""The GraphQL schema: types, queries and mutations per domain, and the typed context."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLNonNull
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.schema.config import StrawberryConfig

from schema import errors_masking
from schema.access.report import AccessReport
from schema.audit.queries import AuditQueries
from schema.auth.admin import AdminMutations
from schema.auth.queries import AuthQueries
from schema.auth.sign_in import SignInMutations
from schema.compiled.extension import CompiledReads, PlanCache
from schema.consent.mutations import ConsentMutations
from schema.consent.queries import ConsentQueries
from schema.denied_roots import path_order
from schema.dsr.mutations import DsrMutations
from schema.dsr.queries import DsrQueries
from schema.gate import AuthenticationGate
from schema.leads.duplicates import DuplicateMutations
from schema.leads.mutations import LeadMutations
from schema.leads.queries import LeadQueries
from schema.limits.budget import RequestBudget
from schema.limits.directives import max_directives_rule
from schema.observe import OperationReport
from schema.pipeline.followup import FollowUpMutations, FollowUpQueries
from schema.pipeline.funnel import FunnelQueries
from schema.policy.break_glass import BreakGlassMutations
from schema.policy.queries import AccessQueries
from schema.scalars import SCALARS
from schema.scoring.mutations import ScoringMutations
from schema.scoring.queries import ScoringQueries
from schema.subscriptions.executor import SharedPayloadExecutor
from schema.subscriptions.operations import LeadSubscriptions
from schema.webhooks.operations import WebhookMutations, WebhookQueries

MAX_DEPTH = 8
MAX_TOKENS = 5000
MAX_ALIASES = 30
MAX_DIRECTIVES = 20
PLAN_CACHE_SIZE = 512
"""Parsed and validated documents kept per process (by query text): a document is parsed
and validated once, then only its variables change."""
LIMIT_RULES = [
    depth_rule(MAX_DEPTH, None, None),
    aliases_rule(MAX_ALIASES),
    max_directives_rule(MAX_DIRECTIVES),
]
"""The limits as validation rules, built once: the validation cache is keyed by the rules,
so rules built per request (as the limiter extensions do) would never hit it."""


@strawberry.type
class Query(
    LeadQueries,
    AuthQueries,
    AccessQueries,
    AuditQueries,
    ConsentQueries,
    ScoringQueries,
    FollowUpQueries,
    FunnelQueries,
    DsrQueries,
    WebhookQueries,
):
    pass


@strawberry.type
class Mutation(
    LeadMutations,
    DuplicateMutations,
    SignInMutations,
    AdminMutations,
    BreakGlassMutations,
    ConsentMutations,
    ScoringMutations,
    FollowUpMutations,
    DsrMutations,
    WebhookMutations,
):
    pass


class LeadVaultSchema(strawberry.Schema):
    plans: PlanCache | None = None
    """The compiled read plans and how often they answered (None: compiled reads off)."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: Any | None = None
    ) -> None:
        errors.sort(key=path_order)
        errors_masking.process(errors)


def build_schema(
    *, production: bool, compiled_reads: bool = True, shared_payloads: bool = True
) -> LeadVaultSchema:
    """The schema. Validation limits depth, tokens, aliases and directives; the request
    budget limits cost and rate; in production introspection is off too. Suggestions are
    always stripped from error messages. ``compiled_reads``: answer the hot lead reads with
    their compiled plans (:mod:`schema.compiled`); off, every query runs on the general
    executor. ``shared_payloads``: resolve each subscription payload once for all the
    subscribers who would be shown it alike (:mod:`schema.subscriptions.executor`)."""
    extensions: list[Callable[[], SchemaExtension]] = [
        OperationReport,
        AuthenticationGate,
        partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
        partial(ParserCache, maxsize=PLAN_CACHE_SIZE),
        partial(AddValidationRules, LIMIT_RULES),
        partial(ValidationCache, maxsize=PLAN_CACHE_SIZE),
        RequestBudget,
        AccessReport,
    ]
    plans = PlanCache(PLAN_CACHE_SIZE) if compiled_reads else None
    if plans is not None:
        extensions.append(partial(CompiledReads, plans=plans))
    if production:
        extensions.append(DisableIntrospection)
    schema = LeadVaultSchema(
        query=Query,
        mutation=Mutation,
        subscription=LeadSubscriptions,
        extensions=extensions,
        execution_context_class=SharedPayloadExecutor if shared_payloads else None,
        config=StrawberryConfig(
            auto_camel_case=True,
            disable_field_suggestions=True,
            scalar_map=dict(SCALARS),
        ),
    )
    schema.plans = plans
    _nullable_root_queries(schema)
    return schema


def _nullable_root_queries(schema: LeadVaultSchema) -> None:
    """Every field of ``Query`` is nullable, so that a root field the caller may not use
    (or that fails) is null with its error at its path while the others still answer:
    one denied field does not null a whole query. Mutations are refused whole instead
    (:mod:`schema.gate`)."""
    query_type = schema._schema.query_type
    assert query_type is not None
    for field in query_type.fields.values():
        if isinstance(field.type, GraphQLNonNull):
            field.type = field.type.of_type
