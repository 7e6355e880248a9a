"""Small-cell suppression: for roles that see no personal data, any count from 1 to
``MIN_CELL - 1`` is withheld (None), so is every rate, mean or amount computed from such a
count, and, where a withheld count could be worked out from a total and its siblings, the
next smallest sibling too."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from compliance.access.policy import AGGREGATE_ONLY
from compliance.access.rules import Actor
from identity.principal import Principal

MIN_CELL = 5


def aggregate_only(principal: Principal) -> bool:
    return Actor.of_role(principal.role) in AGGREGATE_ONLY and not principal.break_glass_active


class Guard:
    """Applies small-cell suppression (or nothing, for roles that see personal data)."""

    def __init__(self, active: bool) -> None:
        self.active = active

    def small(self, count: int | None) -> bool:
        return self.active and count is not None and 0 < count < MIN_CELL

    def count(self, count: int) -> int | None:
        return None if self.small(count) else count

    def counts(self, total: int, parts: Sequence[int]) -> list[int | None]:
        """``parts`` of a shown ``total``: withheld small ones, and the next smallest too
        when a single withheld one could be worked out by subtraction."""
        shown: list[int | None] = [self.count(p) for p in parts]
        hidden = [n for n, v in enumerate(shown) if v is None]
        if len(hidden) == 1 and self.count(total) is not None:
            others = sorted((p, n) for n, p in enumerate(parts) if shown[n] is not None and p > 0)
            if others:
                shown[others[0][1]] = None
        return shown

    def ratio(self, top: int | Decimal, bottom: int, *counts: int) -> float | None:
        if bottom == 0 or any(self.small(c) for c in (bottom, *counts)):
            return None
        return float(top) / bottom
