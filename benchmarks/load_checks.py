"""What :mod:`benchmarks.load` checks once the server has stopped: the audit chain verifies,
each successful read has exactly one ``lead.read`` event (matched by request id), every
acknowledged write is there, and no job ran twice at once."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from benchmarks.load_client import Tally

if TYPE_CHECKING:
    from benchmarks.load_processes import Target

CHUNK = 500


@dataclass
class Checks:
    audit_verified: bool = False
    reads_checked: int = 0
    writes_checked: int = 0
    job_runs_checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.audit_verified and not self.problems


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for first in range(0, len(values), CHUNK):
        yield values[first : first + CHUNK]


async def _reads(tally: Tally, checks: Checks) -> None:
    from audit.models import AuditEvent

    events: Counter[str] = Counter()
    for chunk in _chunks(tally.reads):
        found = await AuditEvent.filter(action="lead.read", request_id__in=list(chunk)).values(
            "request_id"
        )
        events.update(str(row["request_id"]) for row in found)
    missing = sum(1 for request_id in tally.reads if events[request_id] == 0)
    repeated = sum(1 for count in events.values() if count > 1)
    if missing:
        checks.problems.append(f"{missing} successful reads without a lead.read event")
    if repeated:
        checks.problems.append(f"{repeated} reads with more than one lead.read event")
    checks.reads_checked = len(tally.reads)


async def _writes(tally: Tally, checks: Checks) -> None:
    from leads.models import Activity, Lead

    for label, model, ids in (
        ("captured leads", Lead, tally.captured),
        ("recorded activities", Activity, tally.activities),
    ):
        found = 0
        for chunk in _chunks(ids):
            found += await model.filter(id__in=list(chunk)).count()
        if found != len(ids):
            checks.problems.append(f"{len(ids) - found} acknowledged {label} are missing")
        checks.writes_checked += len(ids)


async def _job_runs(checks: Checks) -> None:
    from compliance.models import JobRun

    runs = await JobRun.all().order_by("job", "started_at")
    for before, after in itertools.pairwise(runs):
        if before.job != after.job:
            continue
        ended = before.finished_at or before.heartbeat_at
        if after.started_at < ended:
            checks.problems.append(f"two runs of {before.job} overlapped")
    if not runs:
        checks.problems.append("the job workers recorded no runs")
    checks.job_runs_checked = len(runs)


async def post_check(target: Target, tally: Tally, with_jobs: bool) -> Checks:
    from audit.verify import verify
    from server.db import close_db, init_db, open_vault

    checks = Checks()
    await init_db(target.settings)
    try:
        await open_vault(target.settings)
        verification = await verify()
        checks.audit_verified = verification.ok
        if not verification.ok:
            checks.problems.append("audit verify failed")
        await _reads(tally, checks)
        await _writes(tally, checks)
        if with_jobs:
            await _job_runs(checks)
    finally:
        await close_db()
    return checks
