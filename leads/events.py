"""What the lead domain's events say: ids and enum values, never a personal value."""

from __future__ import annotations

import uuid

from compliance.events.emit import NewEvent, lead_event
from compliance.events.types import EventType
from leads.enums import Stage
from leads.models import Lead


def created(lead: Lead) -> NewEvent:
    return created_with(lead.id, lead.stage, lead.source, lead.owner_id, lead.team_id)


def created_with(
    lead_id: uuid.UUID,
    stage: Stage,
    source: object,
    owner_id: uuid.UUID | None = None,
    team_id: int | None = None,
) -> NewEvent:
    return lead_event(
        EventType.LEAD_CREATED,
        lead_id,
        stage=stage.value,
        source=_text(getattr(source, "value", source)),
        ownerId=_text(owner_id),
        teamId=_text(team_id),
    )


def stage_changed(
    lead_id: uuid.UUID, from_stage: Stage | None, to_stage: Stage, by: str
) -> NewEvent:
    """``by`` is ``staff`` (a person moved it) or ``score`` (it crossed a threshold)."""
    return lead_event(
        EventType.LEAD_STAGE_CHANGED,
        lead_id,
        fromStage=from_stage.value if from_stage else None,
        toStage=to_stage.value,
        by=by,
    )


def assigned(
    lead_id: uuid.UUID,
    owner_id: uuid.UUID | None,
    team_id: int | None,
    previous_owner_id: uuid.UUID | None = None,
) -> NewEvent:
    return lead_event(
        EventType.LEAD_ASSIGNED,
        lead_id,
        ownerId=_text(owner_id),
        teamId=_text(team_id),
        previousOwnerId=_text(previous_owner_id),
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)
