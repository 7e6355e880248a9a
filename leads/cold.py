"""Cold detection: leads that stopped engaging.

An open, working or nurturing lead still before sales acceptance (subscriber, lead, MQL)
with no engagement for ``cold_after`` (since its last engagement, or its creation if it
never engaged) becomes ``cold``. Engaging again warms it (see ``record_activity``). Cold
leads that still consent to email marketing form the re-engagement list (the
``reengageable`` lead filter, ``leadvault marketing export --cold``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.expressions import Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from audit.events import Actor, Event, Outcome, record
from leads.enums import Stage, Status
from leads.models import Lead

WARM_STATUSES = (Status.OPEN, Status.WORKING, Status.NURTURING)
EARLY_STAGES = (Stage.SUBSCRIBER, Stage.LEAD, Stage.MQL)


@dataclass(frozen=True, slots=True)
class ColdReport:
    cutoff: datetime
    leads: int


def going_cold(now: datetime, after: timedelta) -> QuerySet[Lead]:
    cutoff = now - after
    return Lead.filter(
        Q(status__in=list(WARM_STATUSES))
        & Q(stage__in=list(EARLY_STAGES))
        & (
            Q(last_engaged_at__lt=cutoff)
            | (Q(last_engaged_at__isnull=True) & Q(created_at__lt=cutoff))
        )
    )


async def mark_cold(
    actor: Actor, now: datetime, after: timedelta, *, dry_run: bool = False
) -> ColdReport:
    """Mark leads cold in one statement (with an audit event counting them)."""
    cutoff = now - after
    if dry_run:
        return ColdReport(cutoff, await going_cold(now, after).count())
    async with in_transaction("default"):
        changed = await going_cold(now, after).update(status=Status.COLD, updated_at=now)
        if changed:
            await record(
                Event(
                    action="lead.cold.marked",
                    outcome=Outcome.SUCCESS,
                    actor=actor,
                    details={"leads": changed, "after_days": after.days},
                ),
            )
    return ColdReport(cutoff, changed)
