"""The consent job: what a withdrawal or expiry means for data derived earlier.

Reads follow the ledger at once (the state row changes in the withdrawal's transaction);
derived data is brought in line by this job: lapsed grants are written to the ledger as
expired, and the stored scores of leads without a profiling basis are cleared. It is
idempotent (a second run finds nothing to do), safe with several processes (each expiry
re-reads its row under a lock, and clearing is one conditional ``UPDATE``), and leaves an
audit event with its counts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from audit.events import Actor, Event, Outcome, record
from compliance.consent import ledger
from compliance.consent import state as consent_state
from compliance.consent.evidence import ConsentKind
from compliance.consent.models import ConsentState
from compliance.consent.purposes import PROFILING
from core import stopping
from leads.models import Lead

BATCH = 500


@dataclass(frozen=True, slots=True)
class ConsentJobReport:
    expired: int
    scores_cleared: int
    dry_run: bool


def _lapsed(now: datetime) -> Q:
    return Q(status=ConsentKind.GRANTED.value, expires_at__lte=now)


def _scored_without_basis(now: datetime) -> Q:
    scored = Q(score__not=0) | Q(fit_score__not=0) | Q(engagement_score__not=0)
    return (scored | Q(scored_at__isnull=False)) & ~Q(
        id__in=consent_state.leads_allowing(PROFILING, now)
    )


async def run_consent_job(
    actor: Actor,
    now: datetime,
    *,
    dry_run: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> ConsentJobReport:
    if dry_run:
        return ConsentJobReport(
            expired=await ConsentState.filter(_lapsed(now)).count(),
            scores_cleared=await Lead.filter(_scored_without_basis(now)).count(),
            dry_run=True,
        )
    expired = 0
    while True:
        stopping.check()
        batch = await ConsentState.filter(_lapsed(now)).order_by("id").limit(BATCH)
        if not batch:
            break
        async with in_transaction("default"):
            for state in batch:
                if await ledger.expire(state, actor, now) is not None:
                    expired += 1
        if on_progress is not None:
            on_progress(len(batch))
    async with in_transaction("default"):
        cleared = await Lead.filter(_scored_without_basis(now)).update(
            score=0, fit_score=0, engagement_score=0, scored_at=None
        )
        await record(
            Event(
                action="consent.job.ran",
                outcome=Outcome.SUCCESS,
                actor=actor,
                details={"expired": expired, "scores_cleared": cleared},
            ),
            now=now,
        )
    return ConsentJobReport(expired=expired, scores_cleared=cleared, dry_run=False)
