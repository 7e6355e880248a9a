"""Deadline arithmetic by jurisdiction, worked out on a calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from compliance.dsr.models import Jurisdiction
from rights import deadlines
from rights.deadlines import ExtensionRefused


def at(y: int, m: int, d: int, hour: int = 10) -> datetime:
    return datetime(y, m, d, hour, tzinfo=UTC)


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (at(2026, 3, 15), at(2026, 4, 15)),
        (at(2026, 1, 31), at(2026, 2, 28)),  # no 31 February: the month's last day
        (at(2028, 1, 31), at(2028, 2, 29)),  # leap year
        (at(2026, 12, 20), at(2027, 1, 20)),  # across the year end
    ],
)
def test_gdpr_gives_one_calendar_month(received: datetime, due: datetime) -> None:
    result = deadlines.initial(Jurisdiction.GDPR, received)

    assert result.due_at == due
    assert result.acknowledge_by is None


def test_ccpa_acknowledges_in_ten_business_days_and_answers_in_45_days() -> None:
    received = at(2026, 11, 20)  # a Friday
    holiday = date(2026, 11, 26)  # Thanksgiving, a Thursday

    result = deadlines.initial(Jurisdiction.CCPA, received, frozenset({holiday}))

    # Mon 23 … Wed 25 (3), Fri 27 (4), Mon 30 … Fri 4 Dec (9), Mon 7 Dec (10)
    assert result.acknowledge_by == at(2026, 12, 7)
    assert result.due_at == at(2027, 1, 4)


def test_business_days_without_holidays_skip_only_weekends() -> None:
    assert deadlines.add_business_days(at(2026, 11, 20), 10) == at(2026, 12, 4)


def test_gdpr_extension_adds_up_to_two_months_to_the_first_deadline() -> None:
    first_due = at(2026, 1, 31)

    assert deadlines.extended(Jurisdiction.GDPR, first_due, 2, at(2026, 1, 20), False) == at(
        2026, 3, 31
    )
    assert deadlines.extended(Jurisdiction.GDPR, first_due, 1, at(2026, 1, 20), False) == at(
        2026, 2, 28
    )


def test_ccpa_extension_adds_up_to_45_days() -> None:
    first_due = at(2027, 1, 4)

    assert deadlines.extended(Jurisdiction.CCPA, first_due, 45, at(2026, 12, 1), False) == (
        first_due + timedelta(days=45)
    )


@pytest.mark.parametrize(
    ("jurisdiction", "by", "now", "already", "message"),
    [
        (Jurisdiction.GDPR, 3, at(2026, 1, 20), False, "by: between 1 and 2 months"),
        (Jurisdiction.CCPA, 46, at(2026, 1, 20), False, "by: between 1 and 45 days"),
        (Jurisdiction.GDPR, 0, at(2026, 1, 20), False, "by: between 1 and 2 months"),
        (Jurisdiction.GDPR, 1, at(2026, 2, 1), False, "before the first deadline"),
        (Jurisdiction.GDPR, 1, at(2026, 1, 20), True, "only once"),
    ],
)
def test_extensions_outside_the_rules_are_refused(
    jurisdiction: Jurisdiction, by: int, now: datetime, already: bool, message: str
) -> None:
    with pytest.raises(ExtensionRefused, match=message):
        deadlines.extended(jurisdiction, at(2026, 1, 31), by, now, already)


def test_alerts_are_due_soon_within_seven_days_and_overdue_after() -> None:
    due = at(2026, 3, 15)

    assert deadlines.alert_of(due, due - timedelta(days=8)) is None
    assert deadlines.alert_of(due, due - timedelta(days=7)) == "due_soon"
    assert deadlines.alert_of(due, due) == "due_soon"
    assert deadlines.alert_of(due, due + timedelta(seconds=1)) == "overdue"


def test_a_gdpr_extension_asked_at_the_very_first_deadline_is_granted() -> None:
    first_due = at(2026, 1, 31)

    assert deadlines.extended(Jurisdiction.GDPR, first_due, 1, first_due, False) == at(2026, 2, 28)
    with pytest.raises(ExtensionRefused, match="before the first deadline"):
        deadlines.extended(
            Jurisdiction.GDPR, first_due, 1, first_due + timedelta(microseconds=1), False
        )


def test_extension_refusals_say_exactly_why() -> None:
    first_due = at(2026, 1, 31)
    with pytest.raises(ExtensionRefused) as twice:
        deadlines.extended(Jurisdiction.GDPR, first_due, 1, at(2026, 1, 20), True)
    with pytest.raises(ExtensionRefused) as late:
        deadlines.extended(Jurisdiction.GDPR, first_due, 1, at(2026, 2, 1), False)

    assert str(twice.value) == "a request can be extended only once"
    assert str(late.value) == (
        "the extension and its notice must come before the first deadline has passed"
    )
