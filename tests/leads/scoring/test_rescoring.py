"""Scoring against the database: incremental rescoring, explanations and history, stage
advances, leads without a profiling basis, drafts, dry runs, publishing and resumable runs."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from audit.events import Actor
from audit.models import AuditEvent
from compliance import lease
from core.errors import NotFound, ValidationFailed
from identity.principal import Principal
from identity.roles import Role
from leads import service
from leads.enums import ActivityType, CompanySize, Seniority, Stage
from leads.models import Activity, Lead, StageChange
from leads.scoring import runs
from leads.scoring import service as scoring
from leads.scoring.definition import DEFAULT_DEFINITION
from leads.scoring.models import ScoreHistory, ScoringModel, ScoringRun
from tests.builders import a_lead, clear_value

MARKETER = Principal(role=Role.MARKETER)
OPERATOR = Actor.operator()
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


async def activity(lead: Lead, kind: ActivityType, at: datetime) -> None:
    await Activity.create(lead_id=lead.id, type=kind, occurred_at=at, details={})


async def test_recording_an_activity_rescores_the_lead_at_once_and_explains_it() -> None:
    lead = await a_lead(seniority=Seniority.VP, country="DE")

    await service.record_activity(
        MARKETER, service.ActivityInput(lead_id=lead.id, type=ActivityType.PRICING_PAGE_VIEW)
    )

    row = await Lead.get(id=lead.id)
    assert (row.score, row.fit_score, row.engagement_score) == (55, 30, 25)
    assert row.score_model_version == 1
    assert {c["rule"]: c["points"] for c in row.score_breakdown} == {
        "decision_maker_title": 30,
        "pricing_or_feature_page": 25,
    }
    history = await ScoreHistory.filter(lead_id=lead.id)
    assert [(h.score, h.trigger) for h in history] == [(55, "activity")]


async def test_crossing_a_threshold_moves_the_lead_forward_with_the_score_as_reason() -> None:
    lead = await a_lead(seniority=Seniority.VP, company_size=CompanySize.SIZE_51_200, country="DE")

    await service.record_activity(
        MARKETER, service.ActivityInput(lead_id=lead.id, type=ActivityType.DEMO_REQUEST)
    )

    row = await Lead.get(id=lead.id)
    assert (row.score, row.stage) == (90, Stage.SQL)
    change = await StageChange.filter(lead_id=lead.id, to_stage=Stage.SQL).get()
    assert change.from_stage is Stage.LEAD
    assert change.changed_by_id is None
    assert await clear_value(change, "reason") == (
        "score 90 reached the SQL threshold 70 (scoring model v1)"
    )
    event = await AuditEvent.filter(action="lead.stage.advanced").get()
    assert event.details["by"] == "score"


async def test_a_lower_score_never_moves_a_lead_backwards() -> None:
    lead = await a_lead(stage=Stage.SQL, country="DE")
    await service.record_activity(
        MARKETER, service.ActivityInput(lead_id=lead.id, type=ActivityType.UNSUBSCRIBE)
    )
    row = await Lead.get(id=lead.id)
    assert (row.score, row.stage) == (-20, Stage.SQL)
    assert await StageChange.filter(lead_id=lead.id).count() == 1


async def test_a_lead_without_profiling_basis_is_not_scored() -> None:
    lead = await a_lead(bases=False, seniority=Seniority.VP)
    await service.record_activity(
        MARKETER, service.ActivityInput(lead_id=lead.id, type=ActivityType.DEMO_REQUEST)
    )
    row = await Lead.get(id=lead.id)
    assert (row.score, row.score_model_version, row.score_breakdown) == (0, None, [])
    assert row.stage is Stage.LEAD
    assert await ScoreHistory.filter(lead_id=lead.id).count() == 0


async def test_an_unchanged_score_writes_no_history() -> None:
    lead = await a_lead(seniority=Seniority.VP)
    await scoring.rescore_lead(lead.id, scoring.Trigger.LEAD_CHANGED, NOW)
    await scoring.rescore_lead(lead.id, scoring.Trigger.LEAD_CHANGED, NOW)
    assert await ScoreHistory.filter(lead_id=lead.id).count() == 1


async def test_the_decay_run_lowers_engagement_with_a_fixed_clock() -> None:
    lead = await a_lead(country="DE")
    await activity(lead, ActivityType.DEMO_REQUEST, NOW)
    await scoring.rescore_lead(lead.id, scoring.Trigger.ACTIVITY, NOW)
    assert (await Lead.get(id=lead.id)).engagement_score == 40

    later = NOW + 30 * DAY
    run = await runs.start_decay_run(later)
    finished = await runs.run_pending(run_id=run.id, now=lambda: later)

    assert finished is not None
    assert (finished.status, finished.processed, finished.changed) == ("done", 1, 1)
    row = await Lead.get(id=lead.id)
    assert (row.engagement_score, row.scored_at) == (20, later)
    assert [h.trigger for h in await ScoreHistory.filter(lead_id=lead.id).order_by("id")] == [
        "activity",
        "decay",
    ]


def stricter() -> dict[str, Any]:
    """The default model with the MQL threshold at 25 and the SQL threshold at 50."""
    return {**DEFAULT_DEFINITION, "mql_threshold": 25, "sql_threshold": 50}


async def scored_leads() -> list[Lead]:
    """Leads worth (default model) 0, 20, 30, 50, 55 and 70, one without basis."""
    specs: list[tuple[dict[str, Any], list[ActivityType]]] = [
        ({}, []),
        ({"company_size": CompanySize.SIZE_51_200}, []),
        ({"seniority": Seniority.VP}, []),
        ({"seniority": Seniority.VP, "company_size": CompanySize.SIZE_51_200}, []),
        ({"seniority": Seniority.VP}, [ActivityType.PRICING_PAGE_VIEW]),
        ({"seniority": Seniority.VP}, [ActivityType.DEMO_REQUEST]),
    ]
    leads = []
    for facts, kinds in specs:
        lead = await a_lead(country="DE", stage=Stage.SUBSCRIBER, **facts)
        for kind in kinds:
            await activity(lead, kind, NOW)
        leads.append(lead)
    leads.append(await a_lead(bases=False, seniority=Seniority.VP))
    run = await ScoringRun.create(
        model_version=(await scoring.published_model())[0],
        trigger="decay",
        status="pending",
        created_at=NOW,
    )
    await runs.run_pending(run_id=run.id, now=lambda: NOW)
    return leads


async def test_drafts_are_versioned_and_published_versions_stay_viewable() -> None:
    draft = await scoring.create_draft(OPERATOR, None, stricter(), "lower bars")
    assert (draft.version, draft.status) == (2, "draft")
    await scoring.update_draft(OPERATOR, 2, {**stricter(), "sql_threshold": 60}, None)
    await scoring.publish(OPERATOR, None, 2)

    rows = {m.version: m for m in await scoring.versions()}
    assert (rows[1].status, rows[2].status) == ("retired", "published")
    assert rows[1].definition["sql_threshold"] == 70
    assert rows[2].definition["sql_threshold"] == 60
    assert (await scoring.published_model())[0] == 2
    with pytest.raises(ValidationFailed) as raised:
        await scoring.update_draft(OPERATOR, 2, stricter(), None)
    assert raised.value.errors[0].field == "version"
    with pytest.raises(NotFound):
        await scoring.publish(OPERATOR, None, 9)


async def test_an_invalid_draft_names_the_field_and_is_not_stored() -> None:
    with pytest.raises(ValidationFailed) as raised:
        await scoring.create_draft(OPERATOR, None, {**stricter(), "mql_threshold": 90}, None)
    assert raised.value.errors[0].field == "definition.mql_threshold"
    assert await ScoringModel.filter(status="draft").count() == 0


async def test_the_dry_run_predicts_exactly_what_publishing_does() -> None:
    leads = await scored_leads()
    before = {row.id: row.stage for row in await Lead.all()}
    draft = await scoring.create_draft(OPERATOR, None, stricter(), None)

    report = await scoring.dry_run(draft.version, now=NOW)
    assert await ScoreHistory.all().count() == 6  # the dry run wrote nothing
    run = await scoring.publish(OPERATOR, None, draft.version)
    done = await runs.run_pending(run_id=run.id, now=lambda: NOW)

    # default (MQL 40, SQL 70): 50, 55 MQL; 70 SQL. Stricter (25, 50): 30 MQL; 50, 55, 70 SQL.
    assert (report.evaluated, report.not_scored) == (7, 1)
    assert (report.gain_mql, report.lose_mql, report.gain_sql, report.lose_sql) == (1, 0, 2, 0)
    after = {row.id: row.stage for row in await Lead.all()}
    became = lambda stage: sum(  # noqa: E731
        1 for i in after if after[i] == stage and before[i] != stage
    )
    assert done is not None
    assert (
        done.advanced == report.gain_mql + report.gain_sql == became(Stage.MQL) + became(Stage.SQL)
    )
    assert after[leads[2].id] is Stage.MQL
    assert after[leads[3].id] is Stage.SQL
    assert after[leads[6].id] is Stage.LEAD


async def test_a_killed_run_resumes_after_its_last_committed_batch() -> None:
    for _ in range(5):
        await a_lead(seniority=Seniority.VP)
    run = await ScoringRun.create(
        model_version=(await scoring.published_model())[0],
        trigger="decay",
        status="pending",
        total=5,
        created_at=NOW,
    )

    class Killed(Exception):
        pass

    def die(_: int) -> None:
        raise Killed

    with pytest.raises(Killed):
        await runs.run_pending(run_id=run.id, batch=2, on_progress=die, now=lambda: NOW)
    halfway = await ScoringRun.get(id=run.id)
    assert (halfway.status, halfway.processed) == ("running", 2)
    assert await ScoreHistory.all().count() == 2
    batches = await AuditEvent.filter(action="scoring.run.batch")
    assert [(e.details["run"], e.details["count"], e.details["changed"]) for e in batches] == [
        (str(run.id), 2, 2)
    ]

    # nobody takes it over while its lease holds (its process may only be slow) …
    within = NOW + runs.LEASE - timedelta(seconds=1)
    assert await runs.run_pending(run_id=run.id, now=lambda: within) is None
    assert [r.id for r in await runs.resuming_later(within)] == [run.id]
    # … and the next run resumes it within a minute of its process dying
    after_lease = NOW + runs.LEASE + timedelta(seconds=1)
    assert timedelta(minutes=1) > runs.LEASE
    done = await runs.run_pending(run_id=run.id, batch=2, now=lambda: after_lease)
    assert done is not None
    assert (done.status, done.processed, done.changed) == ("done", 5, 5)
    assert await ScoreHistory.all().count() == 5  # nobody scored twice
    batches = await AuditEvent.filter(action="scoring.run.batch").order_by("seq")
    assert [e.details["count"] for e in batches] == [2, 2, 1]
    assert await Lead.filter(score=30).count() == 5
    assert await runs.run_pending(run_id=run.id, now=lambda: after_lease) is None


async def test_history_is_kept_per_lead_in_order() -> None:
    lead = await a_lead(country="DE")
    await activity(lead, ActivityType.PRICING_PAGE_VIEW, NOW)
    await scoring.rescore_lead(lead.id, scoring.Trigger.ACTIVITY, NOW)
    await activity(lead, ActivityType.TRIAL_SIGNUP, NOW)
    await scoring.rescore_lead(lead.id, scoring.Trigger.ACTIVITY, NOW)
    other = await a_lead()
    await scoring.rescore_lead(other.id, scoring.Trigger.ACTIVITY, NOW)
    history = await ScoreHistory.filter(lead_id=lead.id).order_by("id")
    assert [h.score for h in history] == [25, 65]
    assert history[-1].breakdown[-1]["rule"] == "trial_or_demo_request"
    assert uuid.UUID(str(history[0].lead_id)) == lead.id


async def test_the_scoring_job_finishes_pending_runs_first_then_decays_when_due() -> None:
    await a_lead(seniority=Seniority.VP)
    draft = await scoring.create_draft(OPERATOR, None, stricter(), None)
    published = await scoring.publish(OPERATOR, None, draft.version)
    every = timedelta(hours=24)

    first = await runs.scoring_job(every, now=lambda: NOW)
    second = await runs.scoring_job(every, now=lambda: NOW + timedelta(hours=1))
    third = await runs.scoring_job(every, now=lambda: NOW + timedelta(hours=2))
    fourth = await runs.scoring_job(every, now=lambda: NOW + timedelta(hours=27))

    assert first is not None
    assert (first.id, first.status) == (published.id, "done")
    assert second is not None
    assert (second.trigger, second.status, second.model_version) == ("decay", "done", 2)
    assert third is None
    assert fourth is not None
    assert fourth.trigger == "decay"
    assert await ScoringRun.filter(trigger="decay").count() == 2


async def test_a_run_clears_stored_scores_of_leads_that_lost_their_basis() -> None:
    kept = await a_lead(seniority=Seniority.VP)
    lost = await a_lead(bases=False, score=55, fit_score=30, engagement_score=25)
    await Lead.filter(id=lost.id).update(score_model_version=1)
    run = await runs.start_decay_run(NOW)

    done = await runs.run_pending(run_id=run.id, now=lambda: NOW)

    assert done is not None
    assert done.changed == 2
    cleared = await Lead.get(id=lost.id)
    assert (cleared.score, cleared.score_model_version, cleared.scored_at) == (0, None, None)
    assert (await Lead.get(id=kept.id)).score == 30


async def test_history_for_reads_only_the_newest_entries_of_each_lead() -> None:
    first, second = await a_lead(country="DE"), await a_lead(country="DE")
    for n in range(3):
        await activity(first, ActivityType.PRICING_PAGE_VIEW, NOW - (2 - n) * 30 * DAY)
        await scoring.rescore_lead(first.id, scoring.Trigger.ACTIVITY, NOW)
    await scoring.rescore_lead(second.id, scoring.Trigger.ACTIVITY, NOW)

    found = await scoring.history_for([first.id, second.id], depth=2)

    everything = await ScoreHistory.filter(lead_id=first.id).order_by("-id")
    assert len(everything) == 3
    assert [h.id for h in found[first.id]] == [h.id for h in everything[:2]]
    assert [h.lead_id for h in found[second.id]] == [second.id]
    assert found[first.id][0].breakdown == everything[0].breakdown


async def test_a_second_process_is_told_who_is_rescoring_and_until_when() -> None:
    await lease.take(runs.JOB, "host-b:4242:abcd", datetime.now(UTC), lease.SHORT_LEASE)

    with pytest.raises(runs.ScoringBusy, match=r"running in host-b:4242:abcd .*runs to 20"):
        await runs.run_pending()
    assert await runs.scoring_job(timedelta(hours=24)) is None  # serve's job just skips
