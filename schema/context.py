"""The typed GraphQL context: who is asking, and this request's DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from starlette.requests import Request

from schema.loaders import Loaders
from server.auth.principal import Principal
from server.settings import Settings


@dataclass
class Context:
    request: Request | None
    principal: Principal
    settings: Settings

    @cached_property
    def loaders(self) -> Loaders:
        """Created on first use, so each request batches only its own loads."""
        return Loaders()
