"""Known answers for each masking strategy."""

from __future__ import annotations

import pytest

from compliance.access.masking import EmailMask, InitialMask, PhoneMask, PseudonymMask


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("jane.doe@example.com", "j•••@example.com"),
        ("a@b.example", "a•••@b.example"),
        ("not-an-email", "•••"),
    ],
)
def test_email_mask_keeps_the_first_character_and_the_domain(value: str, masked: str) -> None:
    assert EmailMask().apply(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [("+442079460912", "•••• ••12"), ("+1 (555) 010-0199", "•••• ••99")],
)
def test_phone_mask_keeps_the_last_two_digits(value: str, masked: str) -> None:
    assert PhoneMask().apply(value) == masked


def test_initial_mask_keeps_the_initial() -> None:
    assert InitialMask().apply("Ada") == "A•••"


def test_pseudonyms_are_stable_per_key_and_differ_between_keys() -> None:
    one, other = PseudonymMask(b"1" * 32), PseudonymMask(b"2" * 32)
    value = "6f1c2a3e-0000-4000-8000-000000000001"

    assert one.apply(value) == one.apply(value)
    assert one.apply(value) != other.apply(value)
    assert one.apply(value).startswith("psn_")
    assert len(one.apply(value)) == 4 + 26
