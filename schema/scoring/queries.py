"""Scoring queries: model versions, runs, dry runs."""

from __future__ import annotations

import uuid
from typing import Annotated

import strawberry

from leads import errors as domain
from leads.scoring import runs, service
from schema.errors import NotFound
from schema.ids import parse_uuid
from schema.scoring.types import ScoringDryRun, ScoringModelVersion, ScoringRunInfo

ScoringModelResult = Annotated[
    ScoringModelVersion | NotFound, strawberry.union("ScoringModelResult")
]
ScoringDryRunResult = Annotated[ScoringDryRun | NotFound, strawberry.union("ScoringDryRunResult")]
ScoringRunResult = Annotated[ScoringRunInfo | NotFound, strawberry.union("ScoringRunResult")]
MAX_RUNS = 100


@strawberry.type
class ScoringQueries:
    @strawberry.field(description="Every version of the scoring rules, newest first.")
    async def scoring_models(self) -> list[ScoringModelVersion]:
        return [ScoringModelVersion.of(row) for row in await service.versions()]

    @strawberry.field(description="One version of the scoring rules.")
    async def scoring_model(self, version: int) -> ScoringModelResult:
        try:
            return ScoringModelVersion.of(await service.get_version(version))
        except domain.NotFound as failure:
            return NotFound.of(failure)

    @strawberry.field(description="Evaluate a version over every lead, without writing.")
    async def scoring_dry_run(self, version: int) -> ScoringDryRunResult:
        try:
            return ScoringDryRun.of(await service.dry_run(version))
        except domain.NotFound as failure:
            return NotFound.of(failure)

    @strawberry.field(description="Rescoring runs, newest first.")
    async def scoring_runs(self, first: int = 20) -> list[ScoringRunInfo]:
        return [ScoringRunInfo.of(r) for r in await runs.runs(max(1, min(first, MAX_RUNS)))]

    @strawberry.field(description="One rescoring run and its progress.")
    async def scoring_run(self, id: strawberry.ID) -> ScoringRunResult:
        try:
            run_id: uuid.UUID = parse_uuid(id, "id")
            return ScoringRunInfo.of(await runs.get_run(run_id))
        except (domain.NotFound, domain.ValidationFailed):
            return NotFound(entity="scoring run", message="scoring run not found")
