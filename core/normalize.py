"""Canonical forms of contact values, shared by validation, lookups and blind indexes."""

from __future__ import annotations

import re

_PHONE_PUNCTUATION = re.compile(r"[\s().\-/]")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def normalize_email(value: str) -> str:
    return value.strip().lower()


def normalize_phone(value: str) -> str | None:
    """E.164 form (``+4930123456``) or None when the input cannot be one."""
    compact = _PHONE_PUNCTUATION.sub("", value.strip())
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    return compact if _E164.match(compact) else None
