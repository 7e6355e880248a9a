"""Kept because landed migration 0002 imports ``SessionStage`` from here; migrations are never
edited after they land. The model lives in :mod:`identity.models`."""

from identity.models import SessionStage

__all__ = ["SessionStage"]
