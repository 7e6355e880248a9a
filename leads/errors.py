"""Domain errors. Messages name fields and rules, never the values that broke them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    code: str
    message: str


class LeadError(Exception):
    """Base class for expected, user-facing failures of lead operations."""


class ValidationFailed(LeadError):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(", ".join(f"{e.field}: {e.code}" for e in errors))
        self.errors = errors


class DuplicateLead(LeadError):
    """Another lead already has this email. ``existing_id`` is set only when the caller may
    see that lead; otherwise the caller learns only that a duplicate exists."""

    def __init__(self, field: str, existing_id: object | None) -> None:
        super().__init__(f"{field}: duplicate")
        self.field = field
        self.existing_id = existing_id


class NotFound(LeadError):
    """The row does not exist or is outside the caller's scope (the two look the same)."""

    def __init__(self, entity: str) -> None:
        super().__init__(f"{entity} not found")
        self.entity = entity


class InvalidTransition(LeadError):
    def __init__(self, from_stage: str, to_stage: str, message: str) -> None:
        super().__init__(message)
        self.from_stage = from_stage
        self.to_stage = to_stage
        self.message = message


class Suppressed(LeadError):
    """The contact belongs to an erased person on the suppression list; it is taken again
    only with fresh consent. Says nothing about which contact matched."""

    def __init__(self) -> None:
        super().__init__("this contact was erased and needs fresh consent")
