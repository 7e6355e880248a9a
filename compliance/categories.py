"""Data categories that retention rules and legal holds name."""

from __future__ import annotations

import enum


class DataCategory(enum.StrEnum):
    LEADS = "leads"
    """A lead's personal fields and key (erasure, and retention of unconverted leads)."""
    ACTIVITIES = "activities"
    SESSIONS = "sessions"
    """Staff sessions and sign-in throttle counters."""
    EXPORTS = "exports"
    """Files produced for access and portability requests."""
    AUDIT_EVENTS = "audit_events"
