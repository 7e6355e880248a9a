"""Keyset pagination: opaque cursors over (sort value, id).

A cursor only positions a page; it never widens what a principal may read, because every
page query is built on the principal's scoped query set.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class InvalidCursor(ValueError):
    def __init__(self, argument: str = "after") -> None:
        super().__init__(f"{argument}: not a cursor of this list")
        self.argument = argument


class SortDirection(enum.StrEnum):
    ASC = "asc"
    DESC = "desc"


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    cursors: list[str]
    has_next_page: bool


def encode_cursor(kind: str, value: Any, row_id: Any) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = json.dumps([kind, value, str(row_id)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, kind: str, value_type: type, id_type: type) -> tuple[Any, Any]:
    """The (sort value, id) a cursor points at; raises :class:`InvalidCursor`."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        decoded = json.loads(base64.urlsafe_b64decode(padded.encode()))
        cursor_kind, value, row_id = decoded
        if cursor_kind != kind:
            raise InvalidCursor
        if value_type is datetime:
            value = datetime.fromisoformat(value)
        elif value_type is int and (not isinstance(value, int) or isinstance(value, bool)):
            raise InvalidCursor
        row_id = uuid.UUID(row_id) if id_type is uuid.UUID else int(row_id)
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError):
        raise InvalidCursor from None
    return value, row_id
