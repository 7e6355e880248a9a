"""Possible duplicates in the API: the flags on a lead (shown only to those who may read
the existing lead's email in clear) and the review's decision."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import strawberry

from core import errors as domain
from leads import duplicates
from leads.duplicates import Flag
from leads.models import DuplicateStatus
from schema.context import Context
from schema.errors import NotFound
from schema.ids import parse_uuid

DuplicateStatusEnum = strawberry.enum(DuplicateStatus, name="DuplicateStatus")


@strawberry.type(
    description="Another lead with the same email, flagged when this one was created or "
    "changed by someone who may not read the other; shown only to those who may read the "
    "existing lead's email in clear."
)
class PossibleDuplicate:
    id: strawberry.ID
    other_lead_id: strawberry.ID | None = strawberry.field(
        description="The other lead; null when you may not read its email in clear."
    )
    kind: str = strawberry.field(description="What matched: email.")
    found_at: datetime
    status: DuplicateStatusEnum  # type: ignore[valid-type]
    resolved_at: datetime | None

    @classmethod
    def of(cls, flag: Flag) -> PossibleDuplicate:
        row = flag.row
        return cls(
            id=strawberry.ID(str(row.id)),
            other_lead_id=strawberry.ID(str(flag.other_id)) if flag.other_id else None,
            kind=row.kind,
            found_at=row.found_at,
            status=row.status,
            resolved_at=row.resolved_at,
        )


@strawberry.type(description="The review's decision, recorded.")
class DuplicateResolved:
    id: strawberry.ID
    status: DuplicateStatusEnum  # type: ignore[valid-type]
    resolved_at: datetime


ResolveDuplicateResult = Annotated[
    DuplicateResolved | NotFound, strawberry.union("ResolveDuplicateResult")
]


@strawberry.type
class DuplicateMutations:
    @strawberry.mutation(
        description="Decide a possible duplicate: the same person or different people. "
        "Keep one lead and disqualify the other (changeStage) to merge by hand."
    )
    async def resolve_possible_duplicate(
        self, info: strawberry.Info[Context], id: strawberry.ID, same_person: bool
    ) -> ResolveDuplicateResult:
        try:
            row = await duplicates.resolve(
                info.context.principal, parse_uuid(id, "id"), same_person, datetime.now(UTC)
            )
        except domain.ValidationFailed:
            return NotFound.of(domain.NotFound("possible duplicate"))
        except domain.NotFound as failure:
            return NotFound.of(failure)
        return DuplicateResolved(
            id=strawberry.ID(str(row.id)),
            status=row.status,
            resolved_at=row.resolved_at or datetime.now(UTC),
        )
