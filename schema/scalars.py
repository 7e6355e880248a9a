"""Scalars stricter than the library's: a ``DateTime`` must carry its time zone (``Z`` or an
offset). A time without one is ambiguous, so it is refused as the input error it is rather
than guessed at."""

from __future__ import annotations

from datetime import datetime

import dateutil.parser
import strawberry
from strawberry.schema.types.base_scalars import wrap_parser


def _aware(text: str) -> datetime:
    moment = dateutil.parser.isoparse(text)
    if moment.tzinfo is None:
        raise ValueError("It needs a time zone, e.g. 2026-03-01T12:00:00Z.")
    return moment


AwareDateTime = strawberry.scalar(
    name="DateTime",
    description="Date with time (isoformat)",
    serialize=datetime.isoformat,
    parse_value=wrap_parser(_aware, "DateTime"),
)
