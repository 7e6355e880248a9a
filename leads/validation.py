"""Field rules for lead input. Each rule returns a :class:`FieldError` naming the field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.errors import FieldError, ValidationFailed
from core.validation import Cleaner, amount, domain, email, passthrough, phone, text
from leads.countries import COUNTRY_CODES


def country(field: str, value: Any) -> tuple[Any, FieldError | None]:
    if value is None or not value.strip():
        return None, None
    code = value.strip().upper()
    if code not in COUNTRY_CODES:
        return None, FieldError(
            field, "invalid_country", f"{field} must be an ISO 3166-1 alpha-2 country code"
        )
    return code, None


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
