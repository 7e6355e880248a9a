"""Ids given as GraphQL ``ID`` strings, parsed into domain ids; a malformed one is a
validation error naming the argument."""

from __future__ import annotations

import uuid

from core.errors import FieldError, ValidationFailed


def parse_uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError):
        raise ValidationFailed(
            [FieldError(field, "invalid_id", f"{field} is not a valid id")]
        ) from None


def parse_int_id(value: str, field: str) -> int:
    try:
        return int(value)
    except (ValueError, TypeError):
        raise ValidationFailed(
            [FieldError(field, "invalid_id", f"{field} is not a valid id")]
        ) from None
