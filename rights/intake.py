"""Validating a new request as it is logged: kind, jurisdiction, channel, a contact to
verify the person by, the request in their words. Errors name the field, never the value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from compliance.dsr.models import Jurisdiction, RequestKind
from core import validation
from core.errors import FieldError, ValidationFailed

CHANNELS = frozenset({"email", "web_form", "phone", "letter", "in_person"})
MAX_DETAILS = 2000


@dataclass(frozen=True, slots=True)
class NewRequest:
    kind: str
    jurisdiction: str
    email: str | None = None
    phone: str | None = None
    details: str | None = None
    channel: str = "email"
    received_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Clean:
    kind: RequestKind
    jurisdiction: Jurisdiction
    email: str | None
    phone: str | None
    details: str | None
    received_at: datetime


_E = TypeVar("_E", RequestKind, Jurisdiction)


def _choice(enum_type: type[_E], name: str, raw: str, errors: list[FieldError]) -> _E | None:
    try:
        return enum_type(raw)
    except ValueError:
        allowed = ", ".join(e.value for e in enum_type)
        errors.append(FieldError(name, "invalid", f"one of: {allowed}"))
        return None


def validated(new: NewRequest, now: datetime) -> Clean:
    errors: list[FieldError] = []
    kind = _choice(RequestKind, "kind", new.kind, errors)
    jurisdiction = _choice(Jurisdiction, "jurisdiction", new.jurisdiction, errors)
    if new.channel not in CHANNELS:
        errors.append(FieldError("channel", "invalid", f"one of: {', '.join(sorted(CHANNELS))}"))
    email, email_error = validation.email("email", new.email)
    phone, phone_error = validation.phone("phone", new.phone)
    errors.extend(e for e in (email_error, phone_error) if e is not None)
    if email is None and phone is None and not errors:
        errors.append(FieldError("email", "required", "an email or a phone number is needed"))
    details = (new.details or "").strip() or None
    if details is not None and len(details) > MAX_DETAILS:
        errors.append(FieldError("details", "too_long", f"at most {MAX_DETAILS} characters"))
    received = new.received_at or now
    if received > now:
        errors.append(FieldError("received_at", "future", "cannot be in the future"))
    if errors or kind is None or jurisdiction is None:
        raise ValidationFailed(errors)
    return Clean(kind, jurisdiction, email, phone, details, received)
