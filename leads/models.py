"""Lead data model.

Personal columns are declared with :func:`crypto.fields.personal_field` and only there,
everything else on a lead (company, source, stage, scores) is business data about the
account, not the person. History tables (stage changes, activities) are append-only.
"""

from __future__ import annotations

import enum
import uuid
from typing import Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from compliance.access.decide import Subject
from core.ids import new_id
from core.time import UtcDatetimeField
from crypto.fields import personal_field
from identity.models import StaffUser, Team
from leads.enums import (
    ActivityType,
    Authority,
    Budget,
    Channel,
    CompanySize,
    Need,
    Seniority,
    Source,
    Stage,
    Status,
    Timeline,
)


class Campaign(Model):
    """A marketing campaign. Its cost over its period gives cost per lead."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200, unique=True)
    channel = fields.CharEnumField(Channel, max_length=32)
    cost = fields.DecimalField(max_digits=14, decimal_places=2, default=0)
    currency = fields.CharField(max_length=3, default="EUR")
    starts_on = fields.DateField()
    ends_on = fields.DateField(null=True)
    created_at = UtcDatetimeField(auto_now_add=True)

    class Meta:
        table = "campaign"


class Lead(Model):
    """A person who may become a customer, and the company they represent."""

    # Model docstrings become table comments, and the migration runner splits its SQL on
    # semicolons: keep model docstrings free of them.

    id = fields.UUIDField(primary_key=True, default=new_id)

    first_name = personal_field(max_length=100, category="identity")
    last_name = personal_field(max_length=100, category="identity")
    email = personal_field(max_length=254, category="contact")
    phone = personal_field(max_length=32, category="contact")
    job_title = personal_field(max_length=150, category="employment")
    notes = personal_field(max_length=5000, category="free_text")
    seniority = fields.CharEnumField(Seniority, max_length=32, default=Seniority.UNKNOWN)
    country = fields.CharField(max_length=2, null=True)
    region = fields.CharField(max_length=100, null=True)

    company_name = fields.CharField(max_length=200, null=True)
    company_domain = fields.CharField(max_length=253, null=True)
    company_size = fields.CharEnumField(CompanySize, max_length=16, default=CompanySize.UNKNOWN)
    industry = fields.CharField(max_length=100, null=True)

    source = fields.CharEnumField(Source, max_length=32)
    channel = fields.CharEnumField(Channel, max_length=32, null=True)
    campaign: fields.ForeignKeyNullableRelation[Campaign] = fields.ForeignKeyField(
        "leadvault.Campaign", related_name="leads", null=True, on_delete=fields.SET_NULL
    )
    campaign_id: int | None
    utm_source = fields.CharField(max_length=200, null=True)
    utm_medium = fields.CharField(max_length=200, null=True)
    utm_campaign = fields.CharField(max_length=200, null=True)
    utm_term = fields.CharField(max_length=200, null=True)
    utm_content = fields.CharField(max_length=200, null=True)

    budget = fields.CharEnumField(Budget, max_length=16, default=Budget.UNKNOWN)
    authority = fields.CharEnumField(Authority, max_length=16, default=Authority.UNKNOWN)
    need = fields.CharEnumField(Need, max_length=16, default=Need.UNKNOWN)
    timeline = fields.CharEnumField(Timeline, max_length=16, default=Timeline.UNKNOWN)

    stage = fields.CharEnumField(Stage, max_length=16, default=Stage.LEAD)
    status = fields.CharEnumField(Status, max_length=16, default=Status.OPEN)
    stage_entered_at = UtcDatetimeField()
    owner: fields.ForeignKeyNullableRelation[StaffUser] = fields.ForeignKeyField(
        "leadvault.StaffUser", related_name="owned_leads", null=True, on_delete=fields.SET_NULL
    )
    owner_id: uuid.UUID | None
    team: fields.ForeignKeyNullableRelation[Team] = fields.ForeignKeyField(
        "leadvault.Team", related_name="leads", null=True, on_delete=fields.SET_NULL
    )
    team_id: int | None

    score = fields.IntField(default=0)
    fit_score = fields.IntField(default=0)
    engagement_score = fields.IntField(default=0)
    scored_at = UtcDatetimeField(null=True)
    score_model_version = fields.IntField(null=True)
    score_breakdown: list[dict[str, Any]] = fields.JSONField(default=list, db_default=[])

    deal_value = fields.DecimalField(max_digits=14, decimal_places=2, null=True)
    won_amount = fields.DecimalField(max_digits=14, decimal_places=2, null=True)
    sql_at = UtcDatetimeField(null=True)
    first_touch_at = UtcDatetimeField(null=True)
    assigned_at = UtcDatetimeField(null=True)
    assignment_reason = fields.CharField(max_length=200, null=True)

    created_at = UtcDatetimeField()
    updated_at = UtcDatetimeField()
    last_engaged_at = UtcDatetimeField(null=True)
    # set when the person was erased (by request or by retention): personal fields are gone
    erased_at = UtcDatetimeField(null=True)

    class Meta:
        table = "lead"
        indexes = (
            Index(fields=("created_at", "id"), name="lead_created_idx"),
            Index(fields=("stage", "created_at"), name="lead_stage_created_idx"),
            Index(fields=("owner_id", "created_at"), name="lead_owner_created_idx"),
            Index(fields=("team_id", "created_at"), name="lead_team_created_idx"),
            Index(fields=("status", "last_engaged_at"), name="lead_status_engaged_idx"),
            Index(fields=("campaign_id",), name="lead_campaign_idx"),
        )


class Activity(Model):
    """One engagement event. ``details`` holds non-personal metadata only (page path,
    content id, duration): never names, addresses or free text from the lead."""

    id = fields.BigIntField(primary_key=True)
    lead: fields.ForeignKeyRelation[Lead] = fields.ForeignKeyField(
        "leadvault.Lead", related_name="activities", on_delete=fields.CASCADE
    )
    lead_id: uuid.UUID
    type = fields.CharEnumField(ActivityType, max_length=32)
    occurred_at = UtcDatetimeField()
    campaign: fields.ForeignKeyNullableRelation[Campaign] = fields.ForeignKeyField(
        "leadvault.Campaign", related_name="activities", null=True, on_delete=fields.SET_NULL
    )
    campaign_id: int | None
    recorded_by: fields.ForeignKeyNullableRelation[StaffUser] = fields.ForeignKeyField(
        "leadvault.StaffUser",
        related_name="recorded_activities",
        null=True,
        on_delete=fields.SET_NULL,
    )
    recorded_by_id: uuid.UUID | None
    details: dict[str, Any] = fields.JSONField(default=dict)
    created_at = UtcDatetimeField(auto_now_add=True)

    class Meta:
        table = "activity"
        indexes = (Index(fields=("lead_id", "occurred_at", "id"), name="activity_lead_time_idx"),)


class StageChange(Model):
    """Append-only history of the lifecycle stage of a lead."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    lead: fields.ForeignKeyRelation[Lead] = fields.ForeignKeyField(
        "leadvault.Lead", related_name="stage_changes", on_delete=fields.CASCADE
    )
    lead_id: uuid.UUID
    from_stage = fields.CharEnumField(Stage, max_length=16, null=True)
    to_stage = fields.CharEnumField(Stage, max_length=16)
    changed_at = UtcDatetimeField()
    changed_by: fields.ForeignKeyNullableRelation[StaffUser] = fields.ForeignKeyField(
        "leadvault.StaffUser",
        related_name="stage_changes",
        null=True,
        on_delete=fields.SET_NULL,
    )
    changed_by_id: uuid.UUID | None
    reason = personal_field(max_length=1000, category="free_text", subject_field="lead_id")

    class Meta:
        table = "stage_change"
        indexes = (Index(fields=("lead_id", "changed_at", "id"), name="stage_change_lead_idx"),)


class ContactIndex(Model):
    """Blind indexes of a lead's email and phone (HMAC, never the value), one row per master
    key version, so exact-match lookup and duplicate detection work on encrypted data."""

    id = fields.BigIntField(primary_key=True)
    lead: fields.ForeignKeyRelation[Lead] = fields.ForeignKeyField(
        "leadvault.Lead", related_name="contact_indexes", on_delete=fields.CASCADE
    )
    lead_id: uuid.UUID
    kind = fields.CharField(max_length=16)
    key_version = fields.IntField()
    digest = fields.CharField(max_length=64)

    class Meta:
        table = "contact_index"
        indexes = (
            Index(fields=("kind", "digest"), name="contact_index_lookup_idx"),
            Index(fields=("lead_id", "kind"), name="contact_index_lead_idx"),
        )


def subject_of(lead: Lead) -> Subject:
    """The lead as the access policy sees it: whose it is."""
    return Subject(lead_id=lead.id, owner_id=lead.owner_id, team_id=lead.team_id)


class TaskKind(enum.StrEnum):
    FIRST_CONTACT = "first_contact"
    FOLLOW_UP = "follow_up"


class Task(Model):
    """Follow-up work on a lead: the first contact a new SQL is owed within its SLA, then
    the touches of the suggested cadence. A task is breached when it was done late or is
    still open past its due time."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    lead: fields.ForeignKeyRelation[Lead] = fields.ForeignKeyField(
        "leadvault.Lead", related_name="tasks", on_delete=fields.CASCADE
    )
    lead_id: uuid.UUID
    owner: fields.ForeignKeyNullableRelation[StaffUser] = fields.ForeignKeyField(
        "leadvault.StaffUser", related_name="tasks", null=True, on_delete=fields.SET_NULL
    )
    owner_id: uuid.UUID | None
    kind = fields.CharEnumField(TaskKind, max_length=16)
    step = fields.IntField(default=0)
    due_at = UtcDatetimeField()
    completed_at = UtcDatetimeField(null=True)
    completed_by_id = fields.UUIDField(null=True)
    created_at = UtcDatetimeField()
    breach_announced_at = UtcDatetimeField(null=True)
    """When ``task.sla_breached`` was emitted for it (once per task)."""

    class Meta:
        table = "task"
        indexes = (
            Index(fields=("lead_id", "kind", "step"), name="task_lead_idx"),
            Index(fields=("kind", "due_at"), name="task_due_idx"),
            Index(fields=("owner_id", "completed_at", "due_at"), name="task_owner_idx"),
            Index(fields=("due_at",), name="task_due_at_idx"),
        )


class DuplicateStatus(enum.StrEnum):
    OPEN = "open"
    SAME_PERSON = "same_person"
    DIFFERENT_PEOPLE = "different_people"


class PossibleDuplicate(Model):
    # a lead created (or changed) with the email of an existing lead its author may not read:
    # created as asked, and flagged here for review by someone who may read the existing
    # lead's email (no docstring: it would become the table description)
    id = fields.UUIDField(primary_key=True, default=new_id)
    lead_id = fields.UUIDField()
    existing_id = fields.UUIDField()
    kind = fields.CharField(max_length=16)
    found_at = UtcDatetimeField()
    status = fields.CharEnumField(DuplicateStatus, max_length=20, default=DuplicateStatus.OPEN)
    resolved_at = UtcDatetimeField(null=True)
    resolved_by_id = fields.UUIDField(null=True)

    class Meta:
        table = "possible_duplicate"
        indexes = (
            Index(fields=("existing_id", "status"), name="possible_duplicate_existing_idx"),
            Index(fields=("lead_id", "status"), name="possible_duplicate_lead_idx"),
        )
