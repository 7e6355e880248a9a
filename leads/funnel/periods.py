"""The views a role that sees no personal data may ask for: one whole, finished calendar
quarter (UTC) of lead creation, over every lead it may see.

Two reports whose populations differ by a few leads give those leads away by subtraction
(one report from 1 January, another from 2 January). So these roles get views that never
overlap: the quarters partition the leads, no view is the difference of two others, and no
owner or team filter shrinks the population. A quarter still under way is refused, since
two reports on it a minute apart would differ by the leads that arrived in between.
"""

from __future__ import annotations

from datetime import UTC, datetime

from core.errors import FieldError, ValidationFailed
from leads.funnel.results import FunnelFilter

MONTHS = 3


def quarter_of(moment: datetime) -> datetime:
    """The first instant of the calendar quarter (UTC) holding ``moment``."""
    moment = moment.astimezone(UTC)
    return datetime(moment.year, (moment.month - 1) // MONTHS * MONTHS + 1, 1, tzinfo=UTC)


def shift(start: datetime, quarters: int) -> datetime:
    months = start.year * 12 + start.month - 1 + quarters * MONTHS
    return datetime(months // 12, months % 12 + 1, 1, tzinfo=UTC)


def label(start: datetime) -> str:
    return f"{start.year}-Q{(start.month - 1) // MONTHS + 1}"


def aggregate_view(chosen: FunnelFilter, now: datetime) -> FunnelFilter:
    """The quarter ``chosen`` names (the last finished one when it names none), or
    :class:`ValidationFailed` naming each filter that is not allowed."""
    errors: list[FieldError] = []
    if chosen.owner_id is not None:
        errors.append(
            FieldError("owner_id", "not_allowed", "aggregate views cover every owner's leads")
        )
    if chosen.team_id is not None:
        errors.append(
            FieldError("team_id", "not_allowed", "aggregate views cover every team's leads")
        )
    current = quarter_of(now)
    start = shift(current, -1) if chosen.created_from is None else chosen.created_from
    if chosen.created_from is None and chosen.created_to is not None:
        errors.append(FieldError("created_from", "required", "give the first instant of a quarter"))
    elif start != quarter_of(start):
        errors.append(
            FieldError(
                "created_from",
                "not_a_quarter",
                "aggregate views start at the first instant of a calendar quarter (UTC)",
            )
        )
    else:
        start = quarter_of(start)
        end = shift(start, 1)
        if chosen.created_to is not None and chosen.created_to != end:
            errors.append(
                FieldError(
                    "created_to",
                    "not_a_quarter",
                    f"aggregate views are one quarter: created_to must be {end.isoformat()}",
                )
            )
        elif end > current:
            errors.append(
                FieldError(
                    "created_from",
                    "unfinished",
                    f"{label(start)} is not over; the latest view is {label(shift(current, -1))}",
                )
            )
    if errors:
        raise ValidationFailed(errors)
    return FunnelFilter(created_from=start, created_to=shift(start, 1))
