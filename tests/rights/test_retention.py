"""The retention job: dry run equals the run, holds block it, one process at a time."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest

from audit.events import Actor, Event, Outcome, record
from audit.models import AuditEvent
from compliance import lease
from compliance.categories import DataCategory
from compliance.consent.models import SuppressedContact
from compliance.dsr.models import SubjectExport
from crypto.vault import current_vault
from identity.models import AuthThrottle, SessionStage, StaffSession
from identity.roles import Role
from leads.enums import ActivityType, Stage
from leads.models import Activity, Lead
from rights import export, holds, retention
from rights.retention_policy import RetentionPolicy
from tests.builders import a_lead, a_staff_user, clear_value
from tests.rights.helpers import a_verified_request, an_officer

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=3 * 365)
POLICY = RetentionPolicy()
OPERATOR = Actor.operator()


async def old_activity(lead: Lead, when: datetime) -> Activity:
    return await Activity.create(
        lead_id=lead.id, type=ActivityType.PAGE_VIEW, occurred_at=when, details={"path": "/x"}
    )


async def a_world() -> dict[str, Lead]:
    stale = await a_lead(created_at=LONG_AGO, email="stale@example.com")
    customer = await a_lead(created_at=LONG_AGO, stage=Stage.CUSTOMER)
    engaged = await a_lead(created_at=LONG_AGO, last_engaged_at=NOW - timedelta(days=30))
    recent = await a_lead(created_at=NOW - timedelta(days=10))
    imported = await a_lead(created_at=NOW - timedelta(days=5), last_engaged_at=LONG_AGO)
    await old_activity(engaged, NOW - timedelta(days=800))
    await old_activity(engaged, NOW - timedelta(days=30))
    user = await a_staff_user(Role.SALES_REP)
    for ended in (NOW - timedelta(days=200), NOW - timedelta(days=10)):
        await StaffSession.create(
            user_id=user.id,
            token_hash=secrets.token_hex(32),
            stage=SessionStage.ACTIVE,
            created_at=ended - timedelta(hours=1),
            last_seen_at=ended,
            expires_at=ended,
        )
    await AuthThrottle.create(
        key="login:old", failures=2, window_started_at=NOW - timedelta(days=100)
    )
    await AuthThrottle.create(
        key="login:new", failures=1, window_started_at=NOW - timedelta(days=1)
    )
    for days in (7 * 365, 7 * 365 - 1, 10):
        await record(
            Event(action="test.event", outcome=Outcome.SUCCESS, actor=OPERATOR),
            now=NOW - timedelta(days=days),
        )
    return {
        "stale": stale,
        "customer": customer,
        "engaged": engaged,
        "recent": recent,
        "imported": imported,
    }


async def test_a_dry_run_reports_exactly_what_the_run_then_removes() -> None:
    world = await a_world()

    planned = await retention.plan(POLICY, NOW)
    done = await retention.run(POLICY, NOW, OPERATOR)

    assert planned.counts == done.counts
    assert done.counts == {
        DataCategory.LEADS: 1,
        DataCategory.ACTIVITIES: 1,
        DataCategory.SESSIONS: 2,
        DataCategory.EXPORTS: 0,
        DataCategory.AUDIT_EVENTS: 2,
    }
    stale = await Lead.get(id=world["stale"].id)
    assert stale.erased_at == NOW
    assert await current_vault().subject_keys([stale.id]) == {}
    assert await clear_value(world["customer"], "email") is not None
    assert await clear_value(world["engaged"], "email") is not None
    assert await clear_value(world["imported"], "email") is not None
    assert await Activity.filter(lead_id=world["engaged"].id).count() == 1
    assert await StaffSession.all().count() == 1
    assert [t.key for t in await AuthThrottle.all()] == ["login:new"]
    assert not await SuppressedContact.exists()
    event = await AuditEvent.get(action="retention.run")
    assert event.details["leads"] == 1


async def test_a_second_run_finds_nothing_more() -> None:
    await a_world()
    await retention.run(POLICY, NOW, OPERATOR)

    again = await retention.plan(POLICY, NOW)

    assert set(again.counts.values()) == {0}


async def test_a_category_hold_and_a_subject_hold_keep_what_they_cover() -> None:
    world = await a_world()
    user, officer = await an_officer()
    await holds.place(officer, reason="Tax audit", owner_id=user.id, category="leads", now=NOW)
    await holds.place(
        officer, reason="Dispute", owner_id=user.id, lead_id=world["engaged"].id, now=NOW
    )

    planned = await retention.plan(POLICY, NOW)
    done = await retention.run(POLICY, NOW, OPERATOR)

    assert planned.counts == done.counts
    assert DataCategory.LEADS in done.held
    assert done.counts[DataCategory.LEADS] == 0
    assert done.counts[DataCategory.ACTIVITIES] == 0
    assert await clear_value(world["stale"], "email") == "stale@example.com"
    assert await Activity.filter(lead_id=world["engaged"].id).count() == 2


async def test_only_one_process_runs_the_job_at_a_time() -> None:
    await lease.take(retention.JOB, "another-host:1", datetime.now(UTC), timedelta(minutes=5))

    with pytest.raises(retention.RetentionBusy, match="running in another-host:1"):
        await retention.run(POLICY, NOW, OPERATOR)

    assert not await AuditEvent.filter(action="retention.run").exists()


async def test_a_lapsed_lease_is_taken_over() -> None:
    await lease.take(
        retention.JOB, "crashed:1", datetime.now(UTC) - timedelta(hours=1), timedelta(minutes=5)
    )

    report = await retention.run(POLICY, NOW, OPERATOR)

    assert report.counts[DataCategory.LEADS] == 0


async def test_expired_exports_are_deleted_with_their_keys() -> None:
    user, officer = await an_officer()
    await a_lead(email="ada@example.com")
    request = await a_verified_request(officer, user, kind="access", now=NOW - timedelta(days=8))
    made = await export.generate(officer, request.id, "json", NOW - timedelta(days=8))

    done = await retention.run(POLICY, NOW, OPERATOR)

    assert done.counts[DataCategory.EXPORTS] == 1
    assert (await SubjectExport.get(id=made.export.id)).deleted_at == NOW
    assert await current_vault().subject_keys([made.export.id]) == {}


class Killed(Exception):
    """Stands in for ``kill -9`` right after a batch committed."""


async def _events(prefix: str) -> list[AuditEvent]:
    return list(await AuditEvent.filter(action__startswith=prefix).order_by("seq"))


async def test_a_run_killed_after_its_first_batch_leaves_that_batch_recorded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(retention, "LEAD_BATCH", 2)
    stale = [await a_lead(created_at=LONG_AGO + timedelta(minutes=i)) for i in range(5)]

    def kill_after_first_batch(category: DataCategory, _count: int) -> None:
        raise Killed(category.value)

    with pytest.raises(Killed):
        await retention.run(POLICY, NOW, OPERATOR, progress=kill_after_first_batch)

    erased = {str(lead.id) for lead in await Lead.filter(erased_at__isnull=False)}
    assert len(erased) == 2
    announced, recorded = (
        await _events("retention.leads.erasing"),
        await _events("retention.leads.erased"),
    )
    assert [set(e.subject_ids) for e in announced] == [erased]
    assert [set(e.subject_ids) for e in recorded] == [erased]
    assert announced[0].seq < recorded[0].seq
    assert recorded[0].details["count"] == 2
    assert not await _events("retention.run")
    assert await lease_holder() is None  # a failed run lets go of its lease

    await retention.run(POLICY, NOW, OPERATOR)

    everyone = {str(lead.id) for lead in stale}
    recorded = await _events("retention.leads.erased")
    assert set().union(*(set(e.subject_ids) for e in recorded)) == everyone
    assert sum(int(e.details["count"]) for e in recorded) == 5
    first_run, rerun = recorded[0].details["run"], recorded[-1].details["run"]
    assert first_run != rerun
    final = await AuditEvent.get(action="retention.run")
    assert final.details["run"] == rerun


async def lease_holder() -> str | None:
    from compliance.models import JobLease

    row = await JobLease.filter(name=retention.JOB).first()
    return row.holder if row else None


async def test_keys_shredded_by_a_run_killed_before_its_batch_committed_are_announced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lead = await a_lead(created_at=LONG_AGO)

    async def killed_anonymise(*_args: object, **_kwargs: object) -> None:
        raise Killed("after the keys went, before the batch committed")

    monkeypatch.setattr(retention, "anonymise", killed_anonymise)
    with pytest.raises(Killed):
        await retention.run(POLICY, NOW, OPERATOR)

    assert await current_vault().subject_keys([lead.id]) == {}  # the effect happened
    announced = await _events("retention.leads.erasing")
    assert [e.subject_ids for e in announced] == [[str(lead.id)]]
    assert not await _events("retention.leads.erased")


async def test_deleted_activities_and_sessions_are_recorded_per_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(retention, "BATCH", 1)
    world = await a_world()

    await retention.run(POLICY, NOW, OPERATOR)

    activities = await _events("retention.activities.deleted")
    sessions = await _events("retention.sessions.deleted")
    assert [(e.subject_ids, e.details["count"]) for e in activities] == [
        ([str(world["engaged"].id)], 1)
    ]
    assert sorted((e.details["table"], e.details["count"]) for e in sessions) == [
        ("auth_throttle", 1),
        ("staff_session", 1),
    ]
    pruned = await _events("audit.retention.batch")
    assert sum(int(e.details["count"]) for e in pruned) == 2


async def _key_created(subject_id: str, when: datetime) -> None:
    store = current_vault().keystore
    await store.load_or_create([subject_id])
    await store._db.execute_query(
        store._sql("UPDATE subject_key SET created_at = ? WHERE subject_id = ?"),
        [when.isoformat(), subject_id],
    )


async def test_keys_that_no_record_uses_are_swept_once_old_enough() -> None:
    import uuid

    from rights import orphans

    now = datetime.now(UTC)
    lead = await a_lead()
    user, officer = await an_officer()
    request = await a_verified_request(officer, user)
    stale, fresh = str(uuid.uuid4()), str(uuid.uuid4())
    for subject in (str(lead.id), str(request.id), stale):
        await _key_created(subject, now - timedelta(hours=3))
    await _key_created(fresh, now - timedelta(minutes=5))  # a capture may still be committing

    planned = await retention.plan(POLICY, now)
    done = await retention.run(POLICY, now, OPERATOR)

    assert (planned.orphaned_keys, done.orphaned_keys) == (1, 1)
    left = await current_vault().keystore.load([str(lead.id), str(request.id), stale, fresh])
    assert set(left) == {str(lead.id), str(request.id), fresh}
    [announced] = await _events("retention.orphan_keys.deleting")
    assert announced.details["count"] == 1
    assert announced.subject_ids == []
    final = await AuditEvent.get(action="retention.run")
    assert final.details["orphaned_keys"] == 1
    assert await orphans.count(now) == 0
