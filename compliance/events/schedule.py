"""When a failed delivery is tried again, and when an endpoint is given up on.

Eleven attempts: at once, then after 5 s, 1 min, 5 min, 30 min, 2 h, 5 h, 10 h, 12 h, 12 h
and 24 h, each delay moved by up to ±20 % at random so receivers that come back are not hit
by every sender at the same second: about 2.7 days from first to last. A 429 or 503 with
``Retry-After`` waits at least as long as it asks (at most a day). An endpoint whose every
attempt has failed for :data:`DISABLE_AFTER` is disabled; a 410 disables it at once.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=12),
    timedelta(hours=12),
    timedelta(hours=24),
)
ATTEMPTS = len(DELAYS) + 1
JITTER = 0.2
LONGEST_RETRY_AFTER = timedelta(days=1)
DISABLE_AFTER = timedelta(days=5)
"""How long an endpoint may fail every attempt before it is disabled (longer than one
delivery's whole schedule, so one bad event never disables an endpoint on its own)."""


def next_attempt(
    attempts_made: int,
    now: datetime,
    rng: random.Random,
    retry_after: timedelta | None = None,
) -> datetime | None:
    """When to try again after ``attempts_made`` failed attempts, or None when none is left."""
    if attempts_made >= ATTEMPTS:
        return None
    delay = DELAYS[attempts_made - 1] * (1 + rng.uniform(-JITTER, JITTER))
    if retry_after is not None:
        delay = max(delay, min(retry_after, LONGEST_RETRY_AFTER))
    return now + delay


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """``Retry-After`` as seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return timedelta(seconds=int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(when - now, timedelta(0))
