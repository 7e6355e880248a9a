"""Staff accounts: the people (and, later, services) that act on lead data."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from server.auth.roles import Role

if TYPE_CHECKING:
    from leads.models import Team


class StaffUser(Model):
    """A member of staff. Their email is their login id."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    email = fields.CharField(max_length=254, unique=True)
    display_name = fields.CharField(max_length=120)
    role = fields.CharEnumField(Role, max_length=32)
    team: fields.ForeignKeyNullableRelation[Team] = fields.ForeignKeyField(
        "leadvault.Team", related_name="members", null=True, on_delete=fields.SET_NULL
    )
    team_id: int | None
    is_active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "staff_user"
