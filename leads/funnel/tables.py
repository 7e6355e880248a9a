"""The report's tables (cells that add up to a shown total), each withheld as a whole by
:meth:`leads.funnel.suppression.Guard.withhold`: stage counts, the breakdowns (one table per
column), lead velocity by month and first-contact tasks met or missed."""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from leads.enums import Stage
from leads.funnel.results import Breakdown, MonthCount, Sla
from leads.funnel.suppression import Guard, Withheld
from leads.lifecycle import FUNNEL, RANK

COLUMNS: tuple[tuple[str, Stage], ...] = (
    ("mqls", Stage.MQL),
    ("sqls", Stage.SQL),
    ("opportunities", Stage.OPPORTUNITY),
    ("customers", Stage.CUSTOMER),
)
"""A breakdown's count columns after its leads, each the leads of a row that reached a stage."""

K = TypeVar("K", bound=Hashable)


@dataclass(slots=True)
class Totals:
    leads: int = 0
    reached: list[int] = field(default_factory=lambda: [0] * len(FUNNEL))
    won_n: int = 0
    won_sum: Decimal = Decimal(0)
    lost: int = 0
    open_opportunities: int = 0
    open_value: Decimal = Decimal(0)

    def add(self, row: dict[str, Any]) -> None:
        n = int(row["n"])
        self.leads += n
        for k in range(len(FUNNEL)):
            self.reached[k] += int(row[f"r{k}"] or 0)
        self.lost += int(row["lost"] or 0)
        self.won_n += int(row["won_n"] or 0)
        self.won_sum += Decimal(str(row["won_sum"] or 0))
        if row["stage"] == Stage.OPPORTUNITY.value:
            self.open_opportunities += n
            self.open_value += Decimal(str(row["open_value"] or 0))


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def money(value: Decimal | None) -> Decimal | None:
    return None if value is None else cents(value)


def divide(top: Decimal, bottom: int | float) -> Decimal | None:
    return money(top / Decimal(str(bottom))) if bottom else None


def _withhold(
    guard: Guard, cells: Mapping[K, int], also: Collection[K], inner: Collection[K]
) -> Withheld[K]:
    """``inner``: keys whose own total is shown too (the campaigns, whose attributed total is
    what cost per lead and acquisition cost divide by); withheld as a table first."""
    first = guard.withhold({k: cells[k] for k in inner}, [k for k in also if k in inner])
    if first.whole:
        return Withheld(frozenset(cells), whole=True)
    return guard.withhold(cells, [*also, *first.keys])


@dataclass(frozen=True, slots=True)
class Table:
    """One breakdown with what is withheld in each of its columns."""

    rows: list[Breakdown]
    withheld: dict[str, Withheld[Any]]


def breakdown(
    guard: Guard,
    groups: Mapping[Any, Totals],
    label: Callable[[Any], str] = str,
    inner: Collection[Any] = (),
) -> Table:
    keys = sorted(groups, key=lambda k: (k is None, str(k)))
    leads = _withhold(guard, {k: groups[k].leads for k in keys}, (), inner)
    withheld: dict[str, Withheld[Any]] = {"leads": leads}
    for name, stage in COLUMNS:
        cells = {k: groups[k].reached[RANK[stage]] for k in keys}
        withheld[name] = _withhold(guard, cells, leads.keys, inner)
    withheld["won"] = _withhold(guard, {k: groups[k].won_n for k in keys}, leads.keys, inner)
    if leads.whole:
        return Table([], withheld)

    def cell(name: str, key: Any, value: int) -> int | None:
        return None if key in withheld[name] else value

    rows = []
    for key in keys:
        t = groups[key]
        customers = cell("customers", key, t.reached[RANK[Stage.CUSTOMER]])
        n = cell("leads", key, t.leads)
        rows.append(
            Breakdown(
                key=None if key is None else label(key),
                leads=n,
                mqls=cell("mqls", key, t.reached[RANK[Stage.MQL]]),
                sqls=cell("sqls", key, t.reached[RANK[Stage.SQL]]),
                opportunities=cell("opportunities", key, t.reached[RANK[Stage.OPPORTUNITY]]),
                customers=customers,
                conversion_rate=None if n is None or customers is None or not n else customers / n,
                won_amount=None if key in withheld["won"] else money(t.won_sum),
            )
        )
    return Table(rows, withheld)


def _month_after(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


def lead_velocity(guard: Guard, qualified: dict[str, int], now: datetime) -> list[MonthCount]:
    """Every calendar month from the first with a qualified lead through the current one,
    months without any counted as 0, each compared with the calendar month before it. The
    current month is still under way: it is marked partial and gets no growth rate. The
    months are one table: each withheld month withholds the rates that use it."""
    if not qualified:
        return []
    current = f"{now.year:04d}-{now.month:02d}"
    last = max(current, max(qualified))
    counts: dict[str, int] = {}
    month = min(qualified)
    while month <= last:
        counts[month] = qualified.get(month, 0)
        month = _month_after(month)
    withheld = guard.withhold(counts)
    months: list[MonthCount] = []
    previous: int | None = None
    for month, n in counts.items():
        shown = None if month in withheld else n
        partial = month == current
        compared = previous and shown is not None and not partial
        growth = (n - previous) / previous if compared and previous else None
        months.append(MonthCount(month, shown, growth, partial))
        previous = None if shown is None else n
    return months


def sla(guard: Guard, due: int, met: int) -> Sla:
    """Tasks met and missed are one table under the tasks due: a small number missed would
    otherwise be due − met."""
    withheld = guard.withhold({"met": met, "missed": due - met})
    shown_due, shown_met = guard.count(due), None if "met" in withheld else met
    rate = shown_met / due if shown_met is not None and shown_due else None
    return Sla(shown_due, shown_met, rate)
