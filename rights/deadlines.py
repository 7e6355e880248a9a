"""When a request must be answered, by jurisdiction.

- GDPR (Art. 12(3)): one month from receipt. A month ends on the same day of the month
  after, or on that month's last day when it has no such day (31 January → 28/29
  February). Extendable once by up to two further months, with a reason, if the person is
  told within the first month.
- CCPA/CPRA (Cal. Code Regs. tit. 11 § 7021): acknowledge within 10 business days; answer
  within 45 calendar days; extendable once by up to 45 more days with notice inside the
  first 45. Business days skip Saturdays, Sundays and the configured holidays.

Deadlines are instants: the end of the due day is not assumed; the due instant is the same
time of day as the receipt, which is the stricter reading.
"""

from __future__ import annotations

import calendar
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from compliance.dsr.models import Jurisdiction

ALERT_WINDOW = timedelta(days=7)


class ExtensionRefused(ValueError):
    """The extension is too long, too late, or a second one; the message says which."""


def add_months(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def add_business_days(
    moment: datetime, days: int, holidays: Collection[date] = frozenset()
) -> datetime:
    current = moment
    left = days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5 and current.date() not in holidays:
            left -= 1
    return current


@dataclass(frozen=True, slots=True)
class Deadlines:
    due_at: datetime
    acknowledge_by: datetime | None


def initial(
    jurisdiction: Jurisdiction, received_at: datetime, holidays: Collection[date] = frozenset()
) -> Deadlines:
    if jurisdiction is Jurisdiction.GDPR:
        return Deadlines(add_months(received_at, 1), None)
    return Deadlines(received_at + timedelta(days=45), add_business_days(received_at, 10, holidays))


MAX_EXTENSION = {Jurisdiction.GDPR: 2, Jurisdiction.CCPA: 45}
"""Months (GDPR) or days (CCPA) a request may be extended by, at most."""


def extended(
    jurisdiction: Jurisdiction,
    first_due_at: datetime,
    by: int,
    now: datetime,
    already_extended: bool,
) -> datetime:
    """The new due instant after extending by ``by`` months (GDPR) or days (CCPA)."""
    if already_extended:
        raise ExtensionRefused("a request can be extended only once")
    if now > first_due_at:
        raise ExtensionRefused(
            "the extension and its notice must come before the first deadline has passed"
        )
    limit = MAX_EXTENSION[jurisdiction]
    unit = "months" if jurisdiction is Jurisdiction.GDPR else "days"
    if not 1 <= by <= limit:
        raise ExtensionRefused(f"by: between 1 and {limit} {unit}")
    if jurisdiction is Jurisdiction.GDPR:
        return add_months(first_due_at, by)
    return first_due_at + timedelta(days=by)


def alert_of(due_at: datetime, now: datetime) -> str | None:
    """``overdue``, ``due_soon`` (within seven days) or None."""
    if now > due_at:
        return "overdue"
    if due_at - now <= ALERT_WINDOW:
        return "due_soon"
    return None
