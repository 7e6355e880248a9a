"""``consentReport``: how many leads stand where, per purpose, basis and notice version.
Counts only, computed in SQL; a grant past its expiry counts as expired even before the
expiry job has written it to the ledger."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.functions import Count

from compliance.consent.evidence import ConsentKind
from compliance.consent.models import ConsentState

_GROUP = ("purpose", "basis", "notice_version", "status")


@dataclass(frozen=True, slots=True)
class ReportRow:
    purpose: str
    basis: str
    notice_version: str | None
    status: str
    leads: int


async def consent_report(now: datetime | None = None) -> list[ReportRow]:
    when = now or datetime.now(UTC)
    counts: Counter[tuple[str, str, str | None, str]] = Counter()
    for row in await ConsentState.annotate(n=Count("id")).group_by(*_GROUP).values(*_GROUP, "n"):
        counts[(row["purpose"], row["basis"], row["notice_version"], row["status"])] += row["n"]
    lapsed = (
        await ConsentState.filter(status=ConsentKind.GRANTED.value, expires_at__lte=when)
        .annotate(n=Count("id"))
        .group_by(*_GROUP)
        .values(*_GROUP, "n")
    )
    for row in lapsed:
        group = (row["purpose"], row["basis"], row["notice_version"])
        counts[(*group, ConsentKind.GRANTED.value)] -= row["n"]
        counts[(*group, ConsentKind.EXPIRED.value)] += row["n"]
    return [
        ReportRow(purpose, basis, version, status, n)
        for (purpose, basis, version, status), n in sorted(
            counts.items(), key=lambda item: (item[0][0], item[0][1], item[0][2] or "", item[0][3])
        )
        if n > 0
    ]
