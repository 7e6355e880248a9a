"""Field rules shared by every domain's input. Each rule returns the cleaned value and a
:class:`FieldError` naming the field, never the value."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from core.errors import FieldError
from core.normalize import normalize_email, normalize_phone

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_DOMAIN = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")

Cleaner = Callable[[str, Any], tuple[Any, FieldError | None]]

_EMAIL_LIKE = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]{2,}")
_PHONE_LIKE = re.compile(r"(?<![\w.\-])\+?\(?\d[\d\s().\-/]{5,}\d(?![\w.])")
_IPV4_LIKE = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}")
_IPV6_CANDIDATE = re.compile(r"[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*")


def looks_personal(value: str) -> str | None:
    """What kind of personal value ``value`` contains, if it looks like one: an email
    address, a phone number (seven or more digits) or an IP address; None otherwise."""
    if _EMAIL_LIKE.search(value):
        return "an email address"
    for candidate in _IPV4_LIKE.findall(value):
        if all(int(part) <= 255 for part in candidate.split(".")):
            return "an IP address"
    for candidate in _IPV6_CANDIDATE.findall(value):
        try:
            ipaddress.IPv6Address(candidate)
        except ValueError:
            continue
        return "an IP address"
    for candidate in _PHONE_LIKE.findall(value):
        if sum(ch.isdigit() for ch in candidate) >= 7 and not _DATE.fullmatch(candidate.strip()):
            return "a phone number"
    return None


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
