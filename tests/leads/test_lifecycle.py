from __future__ import annotations

import pytest

from leads.enums import Stage, Status
from leads.errors import InvalidTransition
from leads.lifecycle import check_transition, status_after


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (Stage.LEAD, Stage.MQL),
        (Stage.LEAD, Stage.SQL),
        (Stage.MQL, Stage.OPPORTUNITY),
        (Stage.OPPORTUNITY, Stage.CUSTOMER),
        (Stage.SUBSCRIBER, Stage.LEAD),
    ],
)
def test_forward_moves_need_no_reason(current: Stage, target: Stage) -> None:
    check_transition(current, target, None)


@pytest.mark.parametrize(
    ("current", "target", "reason"),
    [
        (Stage.SQL, Stage.MQL, None),
        (Stage.LEAD, Stage.DISQUALIFIED, "  "),
        (Stage.DISQUALIFIED, Stage.LEAD, None),
        (Stage.SQL, Stage.CUSTOMER, "big deal"),
        (Stage.CUSTOMER, Stage.LEAD, "churned"),
        (Stage.MQL, Stage.MQL, "again"),
        (Stage.DISQUALIFIED, Stage.SQL, "changed mind"),
    ],
)
def test_refused_moves(current: Stage, target: Stage, reason: str | None) -> None:
    with pytest.raises(InvalidTransition):
        check_transition(current, target, reason)


def test_backward_disqualify_and_recycle_moves_are_allowed_with_a_reason() -> None:
    check_transition(Stage.SQL, Stage.MQL, "not ready this quarter")
    check_transition(Stage.OPPORTUNITY, Stage.DISQUALIFIED, "no budget")
    check_transition(Stage.DISQUALIFIED, Stage.LEAD, "new budget year")


def test_status_follows_terminal_stages() -> None:
    assert status_after(Stage.CUSTOMER, Status.WORKING) is Status.CONVERTED
    assert status_after(Stage.DISQUALIFIED, Status.WORKING) is Status.COLD
    assert status_after(Stage.LEAD, Status.COLD) is Status.OPEN
    assert status_after(Stage.SQL, Status.WORKING) is Status.WORKING
