"""The typed GraphQL context: who is asking, and this request's DataLoaders."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from graphql import GraphQLError
from starlette.requests import Request

from identity.authenticate import RequestAuth
from identity.policy import AuthPolicy
from identity.principal import Principal
from schema.access.gates import ReadGates
from schema.access.state import RequestAccess
from schema.limits.config import QueryLimits
from schema.loaders import Loaders
from schema.streams import EventSource, SubscriptionLimits


@dataclass
class Context:
    request: Request | None
    auth: RequestAuth
    limits: QueryLimits
    """What this request and its client may cost, built once from settings at start-up."""
    auth_policy: AuthPolicy = field(default_factory=AuthPolicy)
    """The app's sign-in timings and limits, built once from settings at start-up."""
    response: Any = None
    """The HTTP response being prepared (None outside HTTP, in tests that execute directly)."""
    webhooks_over_http: bool = False
    """Whether webhook endpoints may use plain http (development only)."""
    events: EventSource | None = None
    """Where subscriptions hear of committed events (None: subscriptions are not served)."""
    subscription_limits: SubscriptionLimits = field(default_factory=SubscriptionLimits)
    recheck: Callable[[datetime], Awaitable[bool]] | None = None
    """Whether the credentials this context was made from are still valid (a long-lived
    subscription asks now and then)."""
    connection_params: dict[str, Any] | None = None
    """What a WebSocket client sent with ``connection_init``."""
    read_gates: ReadGates | None = None
    """Set by a transport that sends subscription payloads only once their reads are
    recorded (:mod:`schema.access.gates`)."""

    async def session_valid(self, now: datetime) -> bool:
        return True if self.recheck is None else await self.recheck(now)

    def refuse_with(self, status: int, headers: dict[str, str]) -> None:
        """Give the HTTP response a status and headers (a refusal such as 429)."""
        if self.response is not None:
            self.response.status_code = status
            for name, value in headers.items():
                self.response.headers[name] = value

    @property
    def principal(self) -> Principal:
        """The signed-in principal. The authentication gate refuses operations before they
        resolve; this refuses again, so a resolver can never act for nobody."""
        if self.auth.principal is None:
            raise GraphQLError("sign in first", extensions={"code": "UNAUTHENTICATED"})
        return self.auth.principal

    @cached_property
    def access(self) -> RequestAccess:
        """This request's field decisions and the record of them."""
        return RequestAccess(self.principal)

    @cached_property
    def loaders(self) -> Loaders:
        """Created on first use, so each request batches only its own loads."""
        return Loaders(self.principal.cursor_binding)
