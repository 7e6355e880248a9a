"""Erasure and retention at scale.

- Erasure: 1,000 subjects (each a lead with email, phone, names, notes, five activities, a
  stage change with a written reason and consent events) erased by the executor in one
  batch, in two shapes: 1,000 approved requests of one lead each (``jobs erasure``), and
  one request covering 1,000 leads. Baseline, in the same run: the same work for another
  1,000 subjects as hand-written SQL (suppression copy, index delete, the blanking updates,
  deletes, key delete) in batches of 100, without certificates, counts or audit.
- Retention: a sweep over 100,000 leads (half unconverted with no engagement for three
  years, each lead with two activities, one older than 25 months) by ``jobs retention``,
  against the same work as hand-written SQL, in the job's batch sizes, on a second
  population of the same shape (both populations are in the tables for both runs).

    .venv/bin/python -m benchmarks.dsr [--subjects N] [--leads N] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise import connections
from tortoise.transactions import in_transaction

from audit.events import Actor
from benchmarks.setup import open_database
from compliance.dsr.models import (
    DataSubjectRequest,
    Jurisdiction,
    RequestKind,
    RequestStatus,
    RequestSubject,
)
from core.bulk import insert_rows, marks
from core.ids import new_id
from crypto.vault import current_vault
from leads.contacts import index_rows, seal_lead
from leads.enums import ActivityType, Source, Stage, Status
from leads.models import Activity, ContactIndex, Lead, StageChange
from rights import erasure, retention
from rights.retention_policy import RetentionPolicy
from server.db import close_db

NOW = datetime(2026, 11, 1, tzinfo=UTC)
BATCH = 100
LEAD_COLUMNS = (
    "id", "first_name", "last_name", "email", "phone", "notes", "source", "stage", "status",
    "stage_entered_at", "created_at", "updated_at", "last_engaged_at", "score_breakdown",
    "seniority", "company_size", "budget", "authority", "need", "timeline", "score",
    "fit_score", "engagement_score",
)  # fmt: skip
DEFAULTS = ["unknown"] * 6 + [0, 0, 0]


async def build_leads(count: int, rng: random.Random, *, stale_share: float) -> list[uuid.UUID]:
    """Leads with every personal field sealed, contact indexes, activities and a stage
    change with a sealed reason; ``stale_share`` of them unconverted and silent for years."""
    vault = current_vault()
    ids: list[uuid.UUID] = []
    for first in range(0, count, 5000):
        chunk = [new_id() for _ in range(min(5000, count - first))]
        keys = await vault.subject_keys(chunk, create=True)
        leads: list[list[Any]] = []
        indexes: list[list[Any]] = []
        activities: list[list[Any]] = []
        changes: list[list[Any]] = []
        for lead_id in chunk:
            n = rng.randrange(10**9)
            stale = rng.random() < stale_share
            # creation times rise with insertion order, as they do when leads arrive
            position = timedelta(seconds=len(ids) + len(leads))
            created = NOW - timedelta(days=4 * 365 if stale else 300) + position
            engaged = None if stale else created + timedelta(days=1)
            values = {
                "first_name": f"Given{n}",
                "last_name": f"Family{n}",
                "email": f"person{n}@example.com",
                "phone": f"+4420{n % 10**8:08d}",
                "notes": f"Met at stand {n % 97}",
            }
            sealed = seal_lead(lead_id, keys[lead_id], values)
            leads.append(
                [lead_id, sealed["first_name"], sealed["last_name"], sealed["email"],
                 sealed["phone"], sealed["notes"], Source.WEB_FORM, Stage.LEAD, Status.OPEN,
                 created, created, created, engaged, [], *DEFAULTS]
            )  # fmt: skip
            indexes.extend(
                [r.lead_id, r.kind, r.key_version, r.digest] for r in index_rows(lead_id, values)
            )
            for day in (10, 800):
                activities.append(
                    [
                        lead_id,
                        ActivityType.PAGE_VIEW,
                        NOW - timedelta(days=day),
                        {"path": "/p"},
                        NOW,
                    ]
                )
            change_id = new_id()
            reason = vault.seal_values(
                StageChange, change_id, keys[lead_id], {"reason": f"Call notes {n}"}
            )["reason"]
            changes.append([change_id, lead_id, None, Stage.LEAD, created, reason])
        async with in_transaction("default"):
            await insert_rows(Lead, LEAD_COLUMNS, leads)
            await insert_rows(ContactIndex, ("lead_id", "kind", "key_version", "digest"), indexes)
            await insert_rows(
                Activity, ("lead_id", "type", "occurred_at", "details", "created_at"), activities
            )
            await insert_rows(
                StageChange,
                ("id", "lead_id", "from_stage", "to_stage", "changed_at", "reason"),
                changes,
            )
        ids.extend(chunk)
    return ids


async def approved_requests(groups: Sequence[Sequence[uuid.UUID]]) -> None:
    """One approved erasure request per group of leads, as if verified and approved."""
    vault = current_vault()
    for group in groups:
        request_id = uuid.uuid4()
        key = (await vault.subject_keys([request_id], create=True))[request_id]
        sealed = vault.seal_values(
            DataSubjectRequest, request_id, key, {"requester_email": "someone@example.com"}
        )
        await DataSubjectRequest.create(
            id=request_id,
            kind=RequestKind.ERASURE,
            jurisdiction=Jurisdiction.GDPR,
            status=RequestStatus.IN_PROGRESS,
            channel="email",
            received_at=NOW,
            first_due_at=NOW + timedelta(days=30),
            due_at=NOW + timedelta(days=30),
            verified_at=NOW,
            approved_at=NOW,
            created_at=NOW,
            updated_at=NOW,
            extension_reason=None,
            **sealed,
        )
        await RequestSubject.bulk_create(
            [RequestSubject(request_id=request_id, lead_id=i, matched_on="email") for i in group]
        )


def _in(ids: Sequence[uuid.UUID], dialect: str) -> tuple[str, list[Any]]:
    values = [str(i) if dialect == "sqlite" else i for i in ids]
    return ", ".join(marks(dialect, len(ids))), values


async def hand_erase(ids: Sequence[uuid.UUID], *, suppress: bool, batch_size: int = BATCH) -> None:
    """The baseline: the same changes as plain SQL, in the executor's (or the retention
    job's) batch size."""
    db = connections.get("default")
    dialect = db.capabilities.dialect
    keystore = current_vault().keystore
    for first in range(0, len(ids), batch_size):
        batch = ids[first : first + batch_size]
        where, values = _in(batch, dialect)
        async with in_transaction("default") as tx:
            if suppress:
                await tx.execute_query(
                    "INSERT INTO suppressed_contact (kind, key_version, digest, reason, "
                    f"created_at) SELECT kind, key_version, digest, 'erasure', '{NOW.isoformat()}' "
                    f"FROM contact_index WHERE lead_id IN ({where})",
                    values,
                )
            statements = (
                f"DELETE FROM contact_index WHERE lead_id IN ({where})",
                "UPDATE lead SET first_name = NULL, last_name = NULL, email = NULL, "
                "phone = NULL, job_title = NULL, notes = NULL, company_name = NULL, "
                f"company_domain = NULL, region = NULL, erased_at = '{NOW.isoformat()}' "
                f"WHERE id IN ({where})",
                f"UPDATE activity SET details = '{{}}' WHERE lead_id IN ({where})",
                f"UPDATE stage_change SET reason = NULL WHERE lead_id IN ({where})",
                f"DELETE FROM score_history WHERE lead_id IN ({where})",
            )
            for statement in statements:
                await tx.execute_query(statement, values)
        await keystore.shred_many(str(i) for i in batch)


async def erasure_benchmark(subjects: int, rng: random.Random) -> None:
    actor = Actor.operator()
    per_request = await build_leads(subjects, rng, stale_share=0)
    one_request = await build_leads(subjects, rng, stale_share=0)
    baseline_ids = await build_leads(subjects, rng, stale_share=0)
    await approved_requests([[i] for i in per_request])
    started = time.perf_counter()
    done = await erasure.run_approved(actor, lambda: datetime.now(UTC))
    many = time.perf_counter() - started
    assert sum(d.erased for d in done) == subjects
    await approved_requests([one_request])
    started = time.perf_counter()
    done = await erasure.run_approved(actor, lambda: datetime.now(UTC))
    single = time.perf_counter() - started
    assert sum(d.erased for d in done) == subjects
    started = time.perf_counter()
    await hand_erase(baseline_ids, suppress=True)
    baseline = time.perf_counter() - started
    print(f"erasure of {subjects:,} subjects in one batch")
    print(f"  {subjects:,} requests x 1 lead:  {many:7.2f} s  {subjects / many:9,.0f} subjects/s")
    print(
        f"  1 request x {subjects:,} leads:  {single:7.2f} s  {subjects / single:9,.0f} subjects/s"
    )
    print(f"  hand-written SQL:        {baseline:7.2f} s  {subjects / baseline:9,.0f} subjects/s")
    print(f"  ratio executor/baseline: {many / baseline:.2f}x (per request), "
          f"{single / baseline:.2f}x (one request)")  # fmt: skip


async def retention_benchmark(leads: int, rng: random.Random) -> None:
    policy = RetentionPolicy()
    # Both populations first, so the job and the baseline work on tables of the same size.
    baseline_ids = set(await build_leads(leads, rng, stale_share=0.5))
    await build_leads(leads, rng, stale_share=0.5)
    silent = await Lead.filter(last_engaged_at__isnull=True).values_list("id", flat=True)
    stale = [i for i in silent if i in baseline_ids]
    old = await Activity.filter(occurred_at__lt=NOW - timedelta(days=25 * 31)).values_list(
        "id", "lead_id"
    )
    old_ids = [i for i, lead_id in old if lead_id in baseline_ids]
    started = time.perf_counter()
    await hand_erase(stale, suppress=False, batch_size=retention.LEAD_BATCH)  # type: ignore[arg-type]
    for first in range(0, len(old_ids), retention.BATCH):
        async with in_transaction("default"):
            await Activity.filter(id__in=old_ids[first : first + retention.BATCH]).delete()
    baseline = time.perf_counter() - started
    planned = await retention.plan(policy, NOW)
    started = time.perf_counter()
    report = await retention.run(policy, NOW, Actor.operator())
    swept = time.perf_counter() - started
    assert report.counts == planned.counts
    erased = report.counts[retention.DataCategory.LEADS]
    print(f"retention sweep over {leads:,} leads (erased {erased:,}, activities deleted "
          f"{report.counts[retention.DataCategory.ACTIVITIES]:,})")  # fmt: skip
    print(f"  jobs retention:          {swept:7.2f} s  {leads / swept:9,.0f} leads/s swept, "
          f"{erased / swept:,.0f} erased/s")  # fmt: skip
    print(f"  hand-written SQL:        {baseline:7.2f} s  {leads / baseline:9,.0f} leads/s swept")
    print(f"  ratio job/baseline:      {swept / baseline:.2f}x")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=1000)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    settings = await open_database(args.database_url)
    print(f"database: {settings.database_label}")
    rng = random.Random(9)
    try:
        await erasure_benchmark(args.subjects, rng)
        await retention_benchmark(args.leads, rng)
    finally:
        await close_db()


if __name__ == "__main__":
    asyncio.run(main())
