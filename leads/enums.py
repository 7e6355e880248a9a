"""Closed vocabularies of the lead domain, stored as their string values."""

from __future__ import annotations

import enum


class Stage(enum.StrEnum):
    SUBSCRIBER = "subscriber"
    LEAD = "lead"
    MQL = "mql"
    SQL = "sql"
    OPPORTUNITY = "opportunity"
    CUSTOMER = "customer"
    DISQUALIFIED = "disqualified"


class Status(enum.StrEnum):
    OPEN = "open"
    WORKING = "working"
    NURTURING = "nurturing"
    COLD = "cold"
    CONVERTED = "converted"


class Seniority(enum.StrEnum):
    C_LEVEL = "c_level"
    VP = "vp"
    DIRECTOR = "director"
    MANAGER = "manager"
    INDIVIDUAL_CONTRIBUTOR = "individual_contributor"
    UNKNOWN = "unknown"


class CompanySize(enum.StrEnum):
    UNKNOWN = "unknown"
    SIZE_1_10 = "1-10"
    SIZE_11_50 = "11-50"
    SIZE_51_200 = "51-200"
    SIZE_201_1000 = "201-1000"
    SIZE_1001_5000 = "1001-5000"
    SIZE_5001_PLUS = "5001+"


class Source(enum.StrEnum):
    WEB_FORM = "web_form"
    IMPORT = "import"
    API = "api"
    EVENT = "event"
    REFERRAL = "referral"
    PARTNER = "partner"
    OUTBOUND = "outbound"
    CHAT = "chat"


class Channel(enum.StrEnum):
    ORGANIC_SEARCH = "organic_search"
    PAID_SEARCH = "paid_search"
    PAID_SOCIAL = "paid_social"
    ORGANIC_SOCIAL = "organic_social"
    EMAIL = "email"
    DIRECT = "direct"
    REFERRAL = "referral"
    EVENTS = "events"
    PARTNER = "partner"
    OUTBOUND = "outbound"


class Budget(enum.StrEnum):
    UNKNOWN = "unknown"
    NONE = "none"
    UNDER_10K = "under_10k"
    FROM_10K_TO_50K = "10k_50k"
    FROM_50K_TO_250K = "50k_250k"
    OVER_250K = "over_250k"


class Authority(enum.StrEnum):
    UNKNOWN = "unknown"
    NONE = "none"
    INFLUENCER = "influencer"
    DECISION_MAKER = "decision_maker"


class Need(enum.StrEnum):
    UNKNOWN = "unknown"
    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Timeline(enum.StrEnum):
    UNKNOWN = "unknown"
    IMMEDIATE = "immediate"
    THIS_QUARTER = "this_quarter"
    THIS_YEAR = "this_year"
    LATER = "later"


class ActivityType(enum.StrEnum):
    PAGE_VIEW = "page_view"
    PRICING_PAGE_VIEW = "pricing_page_view"
    FEATURE_PAGE_VIEW = "feature_page_view"
    CONTENT_DOWNLOAD = "content_download"
    WEBINAR_REGISTERED = "webinar_registered"
    WEBINAR_ATTENDED = "webinar_attended"
    EMAIL_OPEN = "email_open"
    EMAIL_CLICK = "email_click"
    EMAIL_BOUNCE = "email_bounce"
    UNSUBSCRIBE = "unsubscribe"
    FORM_SUBMIT = "form_submit"
    DEMO_REQUEST = "demo_request"
    TRIAL_SIGNUP = "trial_signup"
    CALL = "call"
    MEETING = "meeting"
    EMAIL_SENT = "email_sent"


HUMAN_TOUCH_ACTIVITIES = frozenset(
    {ActivityType.CALL, ActivityType.MEETING, ActivityType.EMAIL_SENT}
)
"""Activities a salesperson performs (as opposed to the lead engaging on their own)."""
