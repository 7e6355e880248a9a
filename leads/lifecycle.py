"""Which lifecycle moves are allowed.

Forward moves may skip stages (a demo request can make a lead sales-qualified at once), but
``customer`` is reached only from ``opportunity``. Moving backwards, disqualifying and
recycling a disqualified lead each need a written reason, so the stage history explains
itself. Customers are final.
"""

from __future__ import annotations

from leads.enums import Stage, Status
from leads.errors import InvalidTransition

FUNNEL: tuple[Stage, ...] = (
    Stage.SUBSCRIBER,
    Stage.LEAD,
    Stage.MQL,
    Stage.SQL,
    Stage.OPPORTUNITY,
    Stage.CUSTOMER,
)
RANK: dict[Stage, int] = {stage: index for index, stage in enumerate(FUNNEL)}
"""Each funnel stage's position (disqualified has none)."""


def check_transition(current: Stage, target: Stage, reason: str | None) -> None:
    """Raise :class:`InvalidTransition` unless ``current → target`` is allowed."""
    has_reason = bool(reason and reason.strip())
    if current == target:
        raise InvalidTransition(current, target, f"lead is already in stage {target.value}")
    if current is Stage.CUSTOMER:
        raise InvalidTransition(current, target, "a customer cannot change stage")
    if target is Stage.DISQUALIFIED:
        if not has_reason:
            raise InvalidTransition(current, target, "disqualifying a lead needs a reason")
        return
    if current is Stage.DISQUALIFIED:
        if target not in (Stage.SUBSCRIBER, Stage.LEAD):
            raise InvalidTransition(
                current, target, "a disqualified lead can only be recycled to lead or subscriber"
            )
        if not has_reason:
            raise InvalidTransition(current, target, "recycling a lead needs a reason")
        return
    if target is Stage.CUSTOMER and current is not Stage.OPPORTUNITY:
        raise InvalidTransition(current, target, "only an opportunity can become a customer")
    if RANK[target] < RANK[current] and not has_reason:
        raise InvalidTransition(current, target, "moving a lead backwards needs a reason")


def status_after(target: Stage, current_status: Status) -> Status:
    """The status a move implies: customers are converted, disqualified leads go cold."""
    if target is Stage.CUSTOMER:
        return Status.CONVERTED
    if target is Stage.DISQUALIFIED:
        return Status.COLD
    if current_status in (Status.CONVERTED, Status.COLD):
        return Status.OPEN
    return current_status
