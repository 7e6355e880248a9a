"""Kept because landed migrations import ``PersonalDataField`` from here; migrations are never
edited after they land. The column type lives in :mod:`crypto.fields`."""

from crypto.fields import PersonalDataField

__all__ = ["PersonalDataField"]
