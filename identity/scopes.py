"""What an API key may do. Keys carry scopes, never a human role."""

from __future__ import annotations

import enum


class ApiScope(enum.StrEnum):
    LEADS_CAPTURE = "leads:capture"
    """Create leads, as a website form or a lead-generation integration does."""
    ACTIVITIES_RECORD = "activities:record"
    """Record engagement (email opens, page views, webinar attendance) on existing leads."""
