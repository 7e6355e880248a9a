"""Scoring model versions, score history and rescoring runs."""

from __future__ import annotations

import uuid
from typing import Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from core.time import UtcDatetimeField


class ScoringModel(Model):
    """One version of the scoring rules. Drafts change until published, a published version
    never changes, and the newest published one scores leads. Earlier ones stay viewable."""

    id = fields.IntField(primary_key=True)
    version = fields.IntField(unique=True)
    status = fields.CharField(max_length=16)
    definition: dict[str, Any] = fields.JSONField()
    note = fields.CharField(max_length=500, null=True)
    created_at = UtcDatetimeField()
    created_by_id = fields.UUIDField(null=True)
    published_at = UtcDatetimeField(null=True)
    published_by_id = fields.UUIDField(null=True)

    class Meta:
        table = "scoring_model"


class ScoreHistory(Model):
    """Append-only: each time a lead's score changed, what it became and why."""

    id = fields.BigIntField(primary_key=True)
    lead_id = fields.UUIDField()
    model_version = fields.IntField()
    score = fields.IntField()
    fit_score = fields.IntField()
    engagement_score = fields.IntField()
    breakdown: list[dict[str, Any]] = fields.JSONField(default=list)
    trigger = fields.CharField(max_length=32)
    computed_at = UtcDatetimeField()

    class Meta:
        table = "score_history"
        indexes = (Index(fields=("lead_id", "id"), name="score_history_lead_idx"),)


class ScoringRun(Model):
    """A rescoring of every lead, resumable: ``cursor`` is the last lead id done, committed
    with each batch, and ``lease_until`` lets one process at a time work on it."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    model_version = fields.IntField()
    trigger = fields.CharField(max_length=32)
    status = fields.CharField(max_length=16)
    # the position of the last lead done: its row id on SQLite, its id on PostgreSQL
    cursor = fields.CharField(max_length=36, null=True)
    processed = fields.IntField(default=0)
    changed = fields.IntField(default=0)
    advanced = fields.IntField(default=0)
    total = fields.IntField(default=0)
    created_at = UtcDatetimeField()
    started_at = UtcDatetimeField(null=True)
    finished_at = UtcDatetimeField(null=True)
    lease_until = UtcDatetimeField(null=True)

    class Meta:
        table = "scoring_run"
        indexes = (Index(fields=("status", "created_at"), name="scoring_run_status_idx"),)
