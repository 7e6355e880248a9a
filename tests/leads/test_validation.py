from __future__ import annotations

import pytest

from core.errors import ValidationFailed
from core.normalize import normalize_phone
from leads.validation import clean_lead_fields


def _errors(values: dict[str, object], creating: bool = True) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as raised:
        clean_lead_fields(values, creating=creating)
    return {e.field: e.code for e in raised.value.errors}


def test_email_is_trimmed_and_lower_cased() -> None:
    cleaned = clean_lead_fields({"email": "  Ada.L@Example.COM ", "source": "api"}, creating=True)
    assert cleaned["email"] == "ada.l@example.com"


@pytest.mark.parametrize("raw", ["ada@", "@example.com", "ada at example.com", "a@b"])
def test_invalid_emails_are_rejected_naming_the_field(raw: str) -> None:
    assert _errors({"email": raw, "source": "api"}) == {"email": "invalid_email"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+49 30 1234-5678", "+493012345678"),
        ("0044 20 7946 0958", "+442079460958"),
        ("(+1) 415.555.0100", "+14155550100"),
    ],
)
def test_phone_numbers_are_normalised_to_e164(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected


def test_a_phone_without_country_code_is_rejected() -> None:
    assert _errors({"phone": "030 1234567", "source": "api"}) == {"phone": "invalid_phone"}


def test_every_invalid_field_is_reported_at_once() -> None:
    errors = _errors(
        {
            "email": "nope",
            "country": "Germany",
            "company_domain": "not a domain",
            "first_name": "x" * 101,
            "source": "api",
        }
    )
    assert errors == {
        "email": "invalid_email",
        "country": "invalid_country",
        "company_domain": "invalid_domain",
        "first_name": "too_long",
    }


def test_error_messages_never_repeat_the_rejected_value() -> None:
    with pytest.raises(ValidationFailed) as raised:
        clean_lead_fields({"email": "leaky-value@", "source": "api"}, creating=True)
    assert "leaky-value" not in str(raised.value)
    assert all("leaky-value" not in e.message for e in raised.value.errors)


def test_a_new_lead_needs_something_to_identify_it_and_a_source() -> None:
    assert _errors({}) == {"email": "required", "source": "required"}


def test_control_characters_are_rejected() -> None:
    assert _errors({"first_name": "Ada\x00", "source": "api"}) == {
        "first_name": "invalid_characters"
    }


def test_company_domain_is_reduced_to_the_host() -> None:
    cleaned = clean_lead_fields(
        {"company_domain": "https://www.Example.com/", "source": "api", "company_name": "Example"},
        creating=True,
    )
    assert cleaned["company_domain"] == "example.com"
