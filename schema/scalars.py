"""The schema's scalars, each with its wire format in its description (and, where a public
specification exists, ``@specifiedBy``). Stricter than the library's defaults:

- a ``DateTime`` must carry its time zone (``Z`` or an offset); a time without one is
  ambiguous, so it is refused as the input error it is rather than guessed at;
- a ``Decimal`` must be finite (``NaN`` and ``Infinity`` are refused).
"""

from __future__ import annotations

import decimal
from datetime import date, datetime
from typing import Any

import dateutil.parser
import strawberry
from strawberry.schema.types.base_scalars import wrap_parser

RFC_3339 = "https://datatracker.ietf.org/doc/html/rfc3339#section-5.6"


def _aware(text: str) -> datetime:
    moment = dateutil.parser.isoparse(text)
    if moment.tzinfo is None:
        raise ValueError("It needs a time zone, e.g. 2026-03-01T12:00:00Z.")
    return moment


def _finite(text: str) -> decimal.Decimal:
    value = decimal.Decimal(text)
    if not value.is_finite():
        raise decimal.InvalidOperation
    return value


AwareDateTime = strawberry.scalar(
    name="DateTime",
    description=(
        "An instant: an RFC 3339 date-time string with its offset, e.g. "
        '"2026-03-01T12:00:00+00:00". An input without a time zone '
        "is refused."
    ),
    specified_by_url=RFC_3339,
    serialize=datetime.isoformat,
    parse_value=wrap_parser(_aware, "DateTime"),
)

CalendarDate = strawberry.scalar(
    name="Date",
    description='A calendar date: an RFC 3339 full-date string, "YYYY-MM-DD".',
    specified_by_url=RFC_3339,
    serialize=date.isoformat,
    parse_value=wrap_parser(date.fromisoformat, "Date"),
)

ExactDecimal = strawberry.scalar(
    name="Decimal",
    description=(
        'An exact decimal number, sent as a JSON string such as "34533.00", so that no '
        "JSON parser rounds it to a binary floating-point number. Inputs take a string "
        "(or a JSON number, read as written); NaN and Infinity are refused."
    ),
    serialize=str,
    parse_value=wrap_parser(
        _finite,
        "Decimal",
        exceptions=(decimal.DecimalException,),
        include_error=False,
        accept_non_string=True,
    ),
)

SCALARS: dict[object, Any] = {
    datetime: AwareDateTime,
    date: CalendarDate,
    decimal.Decimal: ExactDecimal,
}
"""Python types and the scalars they are in the schema."""
