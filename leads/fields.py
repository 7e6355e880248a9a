"""Kept because landed migrations import ``UtcDatetimeField`` from here; migrations are never
edited after they land. The column type lives in :mod:`core.time`."""

from core.time import UtcDatetimeField

__all__ = ["UtcDatetimeField"]
