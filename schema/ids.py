"""Ids given as GraphQL ``ID`` strings, parsed into domain ids; a malformed one is a
validation error naming the argument."""

from __future__ import annotations

import re
import uuid

from core.errors import FieldError, ValidationFailed


def parse_uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError):
        raise ValidationFailed(
            [FieldError(field, "invalid_id", f"{field} is not a valid id")]
        ) from None


MAX_INT_ID = 2**31 - 1
"""The largest serial id a table holds (a 32-bit integer column)."""
_DIGITS = re.compile(r"[1-9][0-9]{0,9}")


def parse_int_id(value: str, field: str) -> int:
    """A positive whole number in plain ASCII digits that fits an id column."""
    if not isinstance(value, str) or not _DIGITS.fullmatch(value) or int(value) > MAX_INT_ID:
        raise ValidationFailed([FieldError(field, "invalid_id", f"{field} is not a valid id")])
    return int(value)
