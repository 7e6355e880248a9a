"""Base errors of every domain. Messages name fields and rules, never the values that broke
them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    code: str
    message: str


class DomainError(Exception):
    """Base class for expected, user-facing failures of a domain operation."""


class ValidationFailed(DomainError):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(", ".join(f"{e.field}: {e.code}" for e in errors))
        self.errors = errors


class NotFound(DomainError):
    """The row does not exist or is outside the caller's scope (the two look the same)."""

    def __init__(self, entity: str) -> None:
        super().__init__(f"{entity} not found")
        self.entity = entity
