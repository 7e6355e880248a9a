"""Field rules for lead input. Each rule returns a :class:`FieldError` naming the field."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from compliance.normalize import normalize_email, normalize_phone
from leads.countries import COUNTRY_CODES
from leads.errors import FieldError, ValidationFailed

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_DOMAIN = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")

Cleaner = Callable[[str, Any], tuple[Any, FieldError | None]]


def _has_control_chars(value: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\n\t" for ch in value)


def text(max_length: int, *, required: bool = False, multiline: bool = False) -> Cleaner:
    def clean(field: str, value: Any) -> tuple[Any, FieldError | None]:
        if value is None:
            if required:
                return None, FieldError(field, "required", f"{field} is required")
            return None, None
        stripped = value.strip()
        if not stripped:
            if required:
                return None, FieldError(field, "required", f"{field} is required")
            return None, None
        if len(stripped) > max_length:
            return None, FieldError(
                field, "too_long", f"{field} must be at most {max_length} characters"
            )
        if _has_control_chars(stripped) or (not multiline and "\n" in stripped):
            return None, FieldError(field, "invalid_characters", f"{field} has invalid characters")
        return stripped, None

    return clean


def email(field: str, value: Any) -> tuple[Any, FieldError | None]:
    if value is None or not value.strip():
        return None, None
    normalized = normalize_email(value)
    if len(normalized) > 254 or not _EMAIL.match(normalized):
        return None, FieldError(field, "invalid_email", f"{field} is not a valid email address")
    return normalized, None


def phone(field: str, value: Any) -> tuple[Any, FieldError | None]:
    if value is None or not value.strip():
        return None, None
    normalized = normalize_phone(value)
    if normalized is None:
        return None, FieldError(
            field, "invalid_phone", f"{field} must be an international number like +4930123456"
        )
    return normalized, None


def country(field: str, value: Any) -> tuple[Any, FieldError | None]:
    if value is None or not value.strip():
        return None, None
    code = value.strip().upper()
    if code not in COUNTRY_CODES:
        return None, FieldError(
            field, "invalid_country", f"{field} must be an ISO 3166-1 alpha-2 country code"
        )
    return code, None


def domain(field: str, value: Any) -> tuple[Any, FieldError | None]:
    if value is None or not value.strip():
        return None, None
    host = value.strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/")
    host = host.removeprefix("www.")
    if not _DOMAIN.match(host):
        return None, FieldError(field, "invalid_domain", f"{field} is not a valid domain name")
    return host, None


def passthrough(field: str, value: Any) -> tuple[Any, FieldError | None]:
    return value, None


MAX_AMOUNT = Decimal("999999999999.99")


def amount(field: str, value: Any) -> tuple[Any, FieldError | None]:
    """A money amount in the account currency: zero or more, at most two decimals."""
    if value is None:
        return None, None
    try:
        parsed = Decimal(str(value))
    except InvalidOperation:
        return None, FieldError(field, "invalid", f"{field} must be a number")
    if not parsed.is_finite() or parsed < 0 or parsed > MAX_AMOUNT:
        return None, FieldError(field, "out_of_range", f"{field} must be from 0 to {MAX_AMOUNT}")
    if parsed != parsed.quantize(Decimal("0.01")):
        return None, FieldError(field, "too_precise", f"{field} has at most two decimals")
    return parsed.quantize(Decimal("0.01")), None


LEAD_RULES: dict[str, Cleaner] = {
    "first_name": text(100),
    "last_name": text(100),
    "email": email,
    "phone": phone,
    "job_title": text(150),
    "notes": text(5000, multiline=True),
    "seniority": passthrough,
    "country": country,
    "region": text(100),
    "company_name": text(200),
    "company_domain": domain,
    "company_size": passthrough,
    "industry": text(100),
    "source": passthrough,
    "channel": passthrough,
    "campaign_id": passthrough,
    "utm_source": text(200),
    "utm_medium": text(200),
    "utm_campaign": text(200),
    "utm_term": text(200),
    "utm_content": text(200),
    "budget": passthrough,
    "authority": passthrough,
    "need": passthrough,
    "timeline": passthrough,
    "status": passthrough,
    "owner_id": passthrough,
    "deal_value": amount,
    "won_amount": amount,
}


def clean_lead_fields(values: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """Validated, normalised copies of ``values``; raises with every error at once."""
    cleaned: dict[str, Any] = {}
    errors: list[FieldError] = []
    for name, value in values.items():
        rule = LEAD_RULES.get(name)
        if rule is None:
            errors.append(FieldError(name, "unknown_field", f"{name} cannot be set"))
            continue
        result, error = rule(name, value)
        if error is not None:
            errors.append(error)
        else:
            cleaned[name] = result
    if creating and not errors:
        has_contact = any(cleaned.get(k) for k in ("email", "phone"))
        has_name = any(cleaned.get(k) for k in ("first_name", "last_name", "company_name"))
        if not has_contact and not has_name:
            errors.append(
                FieldError(
                    "email",
                    "required",
                    "a lead needs an email, a phone, a name or a company name",
                )
            )
        if "source" not in cleaned or cleaned["source"] is None:
            errors.append(FieldError("source", "required", "source is required"))
    if errors:
        raise ValidationFailed(errors)
    return cleaned
