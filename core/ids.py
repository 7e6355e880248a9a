"""Time-ordered identifiers for leads and the rows that grow with them (stage changes, tasks,
consent events): RFC 9562 version 7.

A random (version 4) id scatters every insert, and every index keyed by a lead id, across
the whole b-tree: at a million leads each batch of a rescoring run or an import rewrites
thousands of unrelated index pages. A version 7 id starts with its creation time in
milliseconds, so leads created together sit together in every index keyed by them, and a
walk over leads in the order they were written touches those indexes in order.

Layout: 48 bits of Unix time in milliseconds, the version (7), 12 bits of the time's
sub-millisecond fraction (so ids made in the same millisecond still sort by time), the
variant, and 62 random bits from the operating system's generator. The id reveals when it
was made, to the millisecond, which the record's own creation time already states.
"""

from __future__ import annotations

import secrets
import time
import uuid

_VERSION = 0x7 << 76
_VARIANT = 0b10 << 62


def new_id(now_ns: int | None = None) -> uuid.UUID:
    """A new version 7 id for the current time (or ``now_ns``, nanoseconds since 1970)."""
    nanos = time.time_ns() if now_ns is None else now_ns
    millis, remainder = divmod(nanos, 1_000_000)
    fraction = remainder * 4096 // 1_000_000  # 12 bits of the sub-millisecond part
    value = (
        (millis & 0xFFFF_FFFF_FFFF) << 80
        | _VERSION
        | fraction << 64
        | _VARIANT
        | secrets.randbits(62)
    )
    return uuid.UUID(int=value)
