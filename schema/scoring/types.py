"""GraphQL types of scoring: explanations, history, model versions, runs and dry runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from leads.scoring import service
from leads.scoring.models import ScoreHistory, ScoringModel, ScoringRun

strawberry.enum(service.ModelStatus, name="ScoringModelStatus")
strawberry.enum(service.RunStatus, name="ScoringRunStatus")


@strawberry.type(description="One rule that contributed to a score, and its points.")
class ScoreContribution:
    rule: str
    section: str = strawberry.field(description="fit, engagement or negative.")
    points: int
    matches: int = strawberry.field(description="How many facts or activities matched.")

    @classmethod
    def of(cls, raw: dict[str, Any]) -> ScoreContribution:
        return cls(
            rule=str(raw["rule"]),
            section=str(raw["section"]),
            points=int(raw["points"]),
            matches=int(raw.get("matches", 1)),
        )

    @classmethod
    def all_of(cls, raw: list[dict[str, Any]] | None) -> list[ScoreContribution]:
        return [cls.of(item) for item in raw or []]


@strawberry.type(description="A score as it changed: what it became, under which model, and why.")
class ScoreHistoryEntry:
    model_version: int
    score: int
    fit_score: int
    engagement_score: int
    breakdown: list[ScoreContribution]
    trigger: str = strawberry.field(
        description="activity, capture, lead_changed, model_published or decay."
    )
    computed_at: datetime

    @classmethod
    def of(cls, row: ScoreHistory) -> ScoreHistoryEntry:
        return cls(
            model_version=row.model_version,
            score=row.score,
            fit_score=row.fit_score,
            engagement_score=row.engagement_score,
            breakdown=ScoreContribution.all_of(row.breakdown),
            trigger=row.trigger,
            computed_at=row.computed_at,
        )


@strawberry.type(description="One version of the scoring rules.")
class ScoringModelVersion:
    version: int
    status: service.ModelStatus
    definition: JSON = strawberry.field(
        description="fit, engagement and negative rules, half_life_days, mql_threshold, "
        "sql_threshold."
    )
    note: str | None
    mql_threshold: int
    sql_threshold: int
    half_life_days: float
    created_at: datetime
    created_by_id: strawberry.ID | None
    published_at: datetime | None
    published_by_id: strawberry.ID | None

    @classmethod
    def of(cls, row: ScoringModel) -> ScoringModelVersion:
        definition = row.definition
        return cls(
            version=row.version,
            status=service.ModelStatus(row.status),
            definition=JSON(definition),
            note=row.note,
            mql_threshold=int(definition["mql_threshold"]),
            sql_threshold=int(definition["sql_threshold"]),
            half_life_days=float(definition.get("half_life_days", 30)),
            created_at=row.created_at,
            created_by_id=strawberry.ID(str(row.created_by_id)) if row.created_by_id else None,
            published_at=row.published_at,
            published_by_id=strawberry.ID(str(row.published_by_id))
            if row.published_by_id
            else None,
        )


@strawberry.type(description="A rescoring of every lead, resumable, with its progress.")
class ScoringRunInfo:
    id: strawberry.ID
    model_version: int
    trigger: str
    status: service.RunStatus
    processed: int
    total: int
    changed: int = strawberry.field(description="Leads whose score changed.")
    advanced: int = strawberry.field(description="Leads moved forward by a crossed threshold.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @strawberry.field(description="Share of leads processed, 0 to 1.")
    def progress(self) -> float:
        if self.status is service.RunStatus.DONE:
            return 1.0
        return min(1.0, self.processed / self.total) if self.total else 0.0

    @classmethod
    def of(cls, row: ScoringRun) -> ScoringRunInfo:
        return cls(
            id=strawberry.ID(str(row.id)),
            model_version=row.model_version,
            trigger=row.trigger,
            status=service.RunStatus(row.status),
            processed=row.processed,
            total=row.total,
            changed=row.changed,
            advanced=row.advanced,
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
        )


@strawberry.type(description="What publishing a version would do, counted over every lead.")
class ScoringDryRun:
    version: int
    against_version: int = strawberry.field(description="The published version compared with.")
    evaluated: int
    not_scored: int = strawberry.field(description="Leads without a profiling basis.")
    gain_mql: int = strawberry.field(description="Leads that would newly reach MQL or above.")
    lose_mql: int
    gain_sql: int
    lose_sql: int
    changed: int = strawberry.field(description="Leads whose score would change.")

    @classmethod
    def of(cls, report: service.DryRunReport) -> ScoringDryRun:
        return cls(
            version=report.version,
            against_version=report.against_version,
            evaluated=report.evaluated,
            not_scored=report.not_scored,
            gain_mql=report.gain_mql,
            lose_mql=report.lose_mql,
            gain_sql=report.gain_sql,
            lose_sql=report.lose_sql,
            changed=report.changed,
        )
