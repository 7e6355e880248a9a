"""Errors of lead operations: the base errors every domain raises, and those only leads
raise. Messages name fields and rules, never the values that broke them."""

from __future__ import annotations

from core.errors import DomainError, FieldError, NotFound, ValidationFailed

__all__ = [
    "DomainError",
    "DuplicateLead",
    "FieldError",
    "InvalidTransition",
    "LeadError",
    "NotFound",
    "Suppressed",
    "ValidationFailed",
]


class LeadError(DomainError):
    """Base class for expected, user-facing failures that only lead operations raise."""


class DuplicateLead(LeadError):
    """Another lead already has this email. ``existing_id`` is set only when the caller may
    see that lead; otherwise the caller learns only that a duplicate exists."""

    def __init__(self, field: str, existing_id: object | None) -> None:
        super().__init__(f"{field}: duplicate")
        self.field = field
        self.existing_id = existing_id


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
