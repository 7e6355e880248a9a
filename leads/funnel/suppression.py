"""Small-cell suppression with complementary suppression, for roles that see no personal data.

A *table* is a set of cells that add up to a figure the report also shows (its margin): the
leads of each source add up to all leads, each source's SQLs to all SQLs, the months of lead
velocity to all qualified leads, met and missed first-contact tasks to the tasks due. Within
each table:

1. every count from 1 to ``MIN_CELL - 1`` is withheld (primary suppression);
2. then, while the withheld cells could be worked out from the margin, more are withheld,
   smallest first (complementary suppression). They could be worked out when only one cell is
   withheld (margin − the others), or when the withheld cells add up to so little that each
   must be small: the margin minus the shown cells leaves ``S`` for ``n`` withheld cells,
   each at least 1, so each is at most ``S − (n − 1)``; that must be at least ``MIN_CELL``;
3. if even withholding every non-zero cell leaves them pinned down (five withheld cells of
   one lead each under a margin of five), the zero cells are withheld too, so none is known
   to be non-zero (:attr:`Withheld.whole`).

Every rate, mean or amount computed from a withheld count is withheld with it.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Generic, TypeVar

from compliance.access.policy import AGGREGATE_ONLY
from compliance.access.rules import Actor
from identity.principal import Principal

MIN_CELL = 5

K = TypeVar("K", bound=Hashable)


def aggregate_only(principal: Principal) -> bool:
    return Actor.of_role(principal.role) in AGGREGATE_ONLY and not principal.break_glass_active


@dataclass(frozen=True, slots=True)
class Withheld(Generic[K]):
    keys: frozenset[K]
    whole: bool = False
    """Every cell is withheld, zeros included."""

    def __contains__(self, key: object) -> bool:
        return key in self.keys


def pinned(values: Sequence[int]) -> bool:
    """Whether withheld cells adding up to ``sum(values)`` could be told apart: one alone, or
    so little in all that each must be under the threshold."""
    if not values:
        return False
    return len(values) == 1 or sum(values) - (len(values) - 1) < MIN_CELL


class Guard:
    """Applies small-cell suppression (or nothing, for roles that see personal data)."""

    def __init__(self, active: bool) -> None:
        self.active = active

    def small(self, count: int | None) -> bool:
        return self.active and count is not None and 0 < count < MIN_CELL

    def count(self, count: int) -> int | None:
        return None if self.small(count) else count

    def withhold(self, cells: Mapping[K, int], also: Iterable[K] = ()) -> Withheld[K]:
        """The cells of one table to withhold: the small ones, those in ``also`` (withheld for
        another reason, such as their row), and enough others that none can be worked out
        from the table's total."""
        if not self.active:
            return Withheld(frozenset())
        hidden = {k for k, v in cells.items() if self.small(v)}
        hidden |= {k for k in also if cells.get(k, 0) > 0}
        if not hidden:
            return Withheld(frozenset(hidden))
        shown = sorted(
            ((v, str(k), k) for k, v in cells.items() if k not in hidden and v > 0),
            key=lambda item: (item[0], item[1]),
        )
        while pinned([cells[k] for k in hidden]) and shown:
            hidden.add(shown.pop(0)[2])
        if pinned([cells[k] for k in hidden]):
            return Withheld(frozenset(cells), whole=True)
        return Withheld(frozenset(hidden))

    def ratio(self, top: int | Decimal, bottom: int, *counts: int) -> float | None:
        if bottom == 0 or any(self.small(c) for c in (bottom, *counts)):
            return None
        return float(top) / bottom
