"""Builders for test data: each makes one valid row and takes overrides."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from compliance.crypto.vault import current_vault
from leads.contacts import index_rows, seal_lead
from leads.enums import ActivityType, Source, Stage
from leads.models import Activity, Campaign, ContactIndex, Lead, StageChange, Team
from server.auth.models import SessionStage, StaffSession, StaffUser
from server.auth.principal import Principal
from server.auth.roles import Role
from server.auth.tokens import SESSION_PREFIX, digest, new_token

_counter = itertools.count(1)
working_team_id: int | None = None
"""The team of the ``client`` fixture's manager; leads built without a team join it."""
BASE_TIME = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


async def a_team(name: str | None = None) -> Team:
    return await Team.create(name=name or f"Team {next(_counter)}")


async def a_staff_user(role: Role = Role.SALES_REP, team: Team | None = None) -> StaffUser:
    n = next(_counter)
    return await StaffUser.create(
        email=f"staff{n}@staff.example",
        display_name=f"Staff {n}",
        role=role,
        team_id=team.id if team else None,
    )


def principal_for(user: StaffUser, *, mfa_verified_at: datetime | None = None) -> Principal:
    return Principal(
        role=user.role,
        user_id=user.id,
        team_id=user.team_id,
        mfa_verified_at=mfa_verified_at or datetime.now(UTC),
    )


async def session_token(
    user: StaffUser,
    *,
    stage: SessionStage = SessionStage.ACTIVE,
    mfa_verified_at: datetime | None = None,
    created_at: datetime | None = None,
) -> str:
    """A bearer token for a session of ``user`` at ``stage`` (active: MFA passed)."""
    now = created_at or datetime.now(UTC)
    token = new_token(SESSION_PREFIX)
    active = stage is SessionStage.ACTIVE
    await StaffSession.create(
        user_id=user.id,
        token_hash=digest(token),
        stage=stage,
        created_at=now,
        last_seen_at=now,
        expires_at=now + (timedelta(hours=12) if active else timedelta(minutes=5)),
        mfa_verified_at=(mfa_verified_at or now) if active else None,
    )
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def a_campaign(**overrides: Any) -> Campaign:
    values: dict[str, Any] = {
        "name": f"Campaign {next(_counter)}",
        "channel": "paid_search",
        "cost": 1000,
        "starts_on": date(2026, 1, 1),
    }
    values.update(overrides)
    return await Campaign.create(**values)


async def a_lead(**overrides: Any) -> Lead:
    n = next(_counter)
    created = overrides.pop("created_at", BASE_TIME + timedelta(minutes=n))
    values: dict[str, Any] = {
        "first_name": "Test",
        "last_name": f"Person{n}",
        "email": f"person{n}@example.com",
        "source": Source.WEB_FORM,
        "stage": Stage.LEAD,
        "stage_entered_at": created,
        "created_at": created,
        "updated_at": created,
    }
    values.setdefault("team_id", working_team_id)
    values.update(overrides)
    lead_id = uuid.uuid4()
    key = (await current_vault().subject_keys([lead_id], create=True))[lead_id]
    lead = await Lead.create(id=lead_id, **seal_lead(lead_id, key, values))
    await ContactIndex.bulk_create(index_rows(lead_id, values))
    await StageChange.create(
        lead_id=lead.id, from_stage=None, to_stage=lead.stage, changed_at=created
    )
    return lead


async def activities_for(lead: Lead, count: int, start: datetime = BASE_TIME) -> list[Activity]:
    rows = [
        Activity(
            lead_id=lead.id,
            type=ActivityType.PAGE_VIEW,
            occurred_at=start + timedelta(hours=i),
            details={"path": f"/p{i}"},
        )
        for i in range(count)
    ]
    await Activity.bulk_create(rows)
    return await Activity.filter(lead_id=lead.id).order_by("-occurred_at", "-id")


async def graphql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
) -> dict[str, Any]:
    """POST a GraphQL request (as ``token``'s bearer when given) and expect HTTP 200."""
    headers = bearer(token) if token else None
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def new_id() -> str:
    return str(uuid.uuid4())


async def clear_value(row: Lead | StageChange, field: str) -> str | None:
    """The clear value of a personal field, opened through the vault as the API does."""
    subject = row.id if isinstance(row, Lead) else row.lead_id
    vault = current_vault()
    key = (await vault.subject_keys([subject])).get(subject)
    return vault.open_value(type(row), field, row.id, getattr(row, field), key)
