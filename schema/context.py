"""The typed GraphQL context: who is asking, and this request's DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from graphql import GraphQLError
from starlette.requests import Request

from schema.loaders import Loaders
from server.auth.authenticate import RequestAuth
from server.auth.policy import AuthPolicy
from server.auth.principal import Principal
from server.settings import Settings


@dataclass
class Context:
    request: Request | None
    auth: RequestAuth
    settings: Settings
    auth_policy: AuthPolicy = field(default_factory=AuthPolicy)
    """The app's sign-in timings and limits, built once from settings at start-up."""

    @property
    def principal(self) -> Principal:
        """The signed-in principal. The authentication gate refuses operations before they
        resolve; this refuses again, so a resolver can never act for nobody."""
        if self.auth.principal is None:
            raise GraphQLError("sign in first", extensions={"code": "UNAUTHENTICATED"})
        return self.auth.principal

    @cached_property
    def loaders(self) -> Loaders:
        """Created on first use, so each request batches only its own loads."""
        return Loaders()
