"""Scoring mutations: drafts and publishing. Each returns a typed reason when it refuses."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from identity.events import actor_of
from leads import errors as domain
from leads.scoring import service
from schema.context import Context
from schema.errors import NotFound, ValidationErrors
from schema.scoring.types import ScoringModelVersion, ScoringRunInfo


@strawberry.type
class ScoringModelPayload:
    model: ScoringModelVersion


@strawberry.type
class PublishScoringModelPayload:
    model: ScoringModelVersion
    run: ScoringRunInfo = strawberry.field(description="The rescoring of every lead it started.")


CreateScoringDraftResult = Annotated[
    ScoringModelPayload | ValidationErrors, strawberry.union("CreateScoringDraftResult")
]
UpdateScoringDraftResult = Annotated[
    ScoringModelPayload | ValidationErrors | NotFound,
    strawberry.union("UpdateScoringDraftResult"),
]
PublishScoringModelResult = Annotated[
    PublishScoringModelPayload | ValidationErrors | NotFound,
    strawberry.union("PublishScoringModelResult"),
]


@strawberry.type
class ScoringMutations:
    @strawberry.mutation(description="A new draft version of the scoring rules.")
    async def create_scoring_draft(
        self, info: strawberry.Info[Context], definition: JSON, note: str | None = None
    ) -> CreateScoringDraftResult:
        principal = info.context.principal
        try:
            row = await service.create_draft(
                actor_of(principal), principal.user_id, definition, note
            )
        except domain.ValidationFailed as failure:
            return ValidationErrors.of(failure)
        return ScoringModelPayload(model=ScoringModelVersion.of(row))

    @strawberry.mutation(description="Change a draft; published versions never change.")
    async def update_scoring_draft(
        self,
        info: strawberry.Info[Context],
        version: int,
        definition: JSON,
        note: str | None = None,
    ) -> UpdateScoringDraftResult:
        try:
            row = await service.update_draft(
                actor_of(info.context.principal), version, definition, note
            )
        except domain.ValidationFailed as failure:
            return ValidationErrors.of(failure)
        except domain.NotFound as failure:
            return NotFound.of(failure)
        return ScoringModelPayload(model=ScoringModelVersion.of(row))

    @strawberry.mutation(
        description="Publish a draft: it scores every lead from now on, and a rescoring run "
        "of every lead starts (see scoringRun for its progress)."
    )
    async def publish_scoring_model(
        self, info: strawberry.Info[Context], version: int
    ) -> PublishScoringModelResult:
        principal = info.context.principal
        try:
            run = await service.publish(actor_of(principal), principal.user_id, version)
        except domain.ValidationFailed as failure:
            return ValidationErrors.of(failure)
        except domain.NotFound as failure:
            return NotFound.of(failure)
        model = await service.get_version(version)
        return PublishScoringModelPayload(
            model=ScoringModelVersion.of(model), run=ScoringRunInfo.of(run)
        )
