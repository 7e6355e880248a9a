"""Keyset pagination: pages, and the errors of cursors (which :mod:`crypto.cursors` seals).

A cursor only positions a page; it never widens what a principal may read, because every
page query is built on the principal's scoped query set.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


class InvalidCursor(ValueError):
    def __init__(self, argument: str = "after") -> None:
        super().__init__(f"{argument}: not a cursor of this list")
        self.argument = argument


class CursorExpired(InvalidCursor):
    def __init__(self, argument: str = "after") -> None:
        ValueError.__init__(self, f"{argument}: the cursor has expired; start from the first page")
        self.argument = argument


class SortDirection(enum.StrEnum):
    ASC = "asc"
    DESC = "desc"


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    cursors: list[str]
    has_next_page: bool
