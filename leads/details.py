"""Activity details: small flat facts about an engagement (the page, the plan, the
campaign step), never personal data, which belongs in the lead's encrypted fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.errors import FieldError, ValidationFailed
from core.validation import looks_personal, text

MAX_DETAILS_KEYS = 20
MAX_DETAIL_LENGTH = 500


def clean_details(details: Mapping[str, Any]) -> dict[str, str | int | float | bool]:
    """Flat, non-personal details: at most ``MAX_DETAILS_KEYS`` identifier keys with scalar
    values; a value that looks like an email address, a phone number or an IP address is
    refused, naming its key (``details.<key>``), never showing the value."""
    errors: list[FieldError] = []
    cleaned: dict[str, str | int | float | bool] = {}
    if len(details) > MAX_DETAILS_KEYS:
        errors.append(
            FieldError("details", "too_many", f"details may have at most {MAX_DETAILS_KEYS} keys")
        )
    for key, value in details.items():
        if not isinstance(key, str) or not key.isidentifier() or len(key) > 64:
            errors.append(FieldError("details", "invalid_key", "details keys must be identifiers"))
            break
        if isinstance(value, bool | int | float):
            cleaned[key] = value
        elif isinstance(value, str):
            result, error = text(MAX_DETAIL_LENGTH)("details", value)
            if error:
                errors.append(error)
                break
            kind = looks_personal(result or "")
            if kind is not None:
                errors.append(
                    FieldError(
                        f"details.{key}",
                        "personal_value",
                        f"details.{key} looks like {kind}: details must not hold personal data",
                    )
                )
                break
            cleaned[key] = result
        else:
            errors.append(FieldError("details", "invalid_value", "details values must be scalars"))
            break
    if errors:
        raise ValidationFailed(errors)
    return cleaned
