"""Builders for test data: each makes one valid row and takes overrides."""

from __future__ import annotations

import base64
import itertools
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from audit.events import Actor as AuditActor
from compliance.access.break_glass import store_grant
from compliance.access.policy import DSR
from compliance.consent.evidence import ConsentKind, ConsentSource, Evidence
from compliance.consent.ledger import ConsentChange, basis_changes, build_event
from compliance.consent.models import ConsentEvent, ConsentState
from compliance.consent.purposes import THIRD_PARTY_SHARING, purposes
from compliance.consent.state import state_row
from compliance.models import BreakGlassGrant
from core.ids import new_id as new_lead_id
from crypto.vault import current_vault
from identity.models import SessionStage, StaffSession, StaffUser, Team
from identity.principal import Principal
from identity.roles import Role
from identity.tokens import SESSION_PREFIX, digest, new_token
from leads.contacts import index_rows, seal_lead
from leads.enums import ActivityType, Source, Stage
from leads.models import Activity, Campaign, ContactIndex, Lead, StageChange

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


CONSENT_CLIENT = "203.0.113.77"
CONSENT_NETWORK = "203.0.113.0/24"
CONSENT_NOTE = "Said yes at the booth"


async def ledger_entries(
    lead_id: uuid.UUID,
    changes: list[ConsentChange],
    at: datetime = BASE_TIME,
    source: ConsentSource = ConsentSource.STAFF,
    note: str | None = None,
) -> list[ConsentEvent]:
    """Ledger events and the state they imply, written straight to the tables (no audit
    events, so tests that count those are not disturbed)."""
    key = (await current_vault().subject_keys([lead_id])).get(lead_id)
    written = []
    for change in changes:
        purpose = purposes().get(change.purpose)
        assert purpose is not None
        kind = ConsentKind.GRANTED if change.granted else ConsentKind.WITHDRAWN
        event = build_event(
            lead_id,
            key,
            purpose,
            kind,
            change.notice_version,
            Evidence(source=source, client_address=CONSENT_CLIENT, note=note),
            AuditActor.operator(),
            at,
        )
        await event.save()
        await ConsentState.filter(lead_id=lead_id, purpose=purpose.name).delete()
        await state_row(event).save()
        written.append(event)
    return written


async def a_lead(*, bases: bool = True, consents: tuple[str, ...] = (), **overrides: Any) -> Lead:
    """A lead; ``bases``: with the legitimate-interest bases a new lead gets; ``consents``:
    purposes it consented to."""
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
    lead_id = new_lead_id()
    key = (await current_vault().subject_keys([lead_id], create=True))[lead_id]
    lead = await Lead.create(id=lead_id, **seal_lead(lead_id, key, values))
    await ContactIndex.bulk_create(index_rows(lead_id, values))
    await StageChange.create(
        lead_id=lead.id, from_stage=None, to_stage=lead.stage, changed_at=created
    )
    changes = basis_changes() if bases else []
    changes += [ConsentChange(p, granted=True) for p in consents]
    if changes:
        await ledger_entries(lead.id, changes, created)
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


async def a_stage_change(lead: Lead, reason: str, to_stage: Stage = Stage.MQL) -> StageChange:
    """A stage-history row with a sealed reason."""
    change_id = uuid.uuid4()
    vault = current_vault()
    key = (await vault.subject_keys([lead.id]))[lead.id]
    sealed = vault.seal_values(StageChange, change_id, key, {"reason": reason})
    return await StageChange.create(
        id=change_id,
        lead_id=lead.id,
        from_stage=Stage.LEAD,
        to_stage=to_stage,
        changed_at=BASE_TIME + timedelta(days=1),
        reason=sealed["reason"],
    )


FULL_LEAD_VALUES: dict[str, str] = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "phone": "+442079460912",
    "job_title": "Head of Engines",
    "notes": "Prefers mornings",
    "company_name": "Analytical Ltd",
    "company_domain": "analytical.example",
}
STAGE_REASON = "Budget approved in call"
ACTIVITY_DETAILS = {"path": "/pricing"}


async def a_full_lead(owner: StaffUser | None, team: Team | None, email: str) -> Lead:
    """A lead with every personal field set, one activity and a stage change with a reason
    (without a team it joins the working team, as :func:`a_lead` does)."""
    lead = await a_lead(
        **FULL_LEAD_VALUES,
        email=email,
        owner_id=owner.id if owner else None,
        **({"team_id": team.id} if team else {}),
    )
    await Activity.create(
        lead_id=lead.id,
        type=ActivityType.PAGE_VIEW,
        occurred_at=BASE_TIME,
        details=ACTIVITY_DETAILS,
    )
    await a_stage_change(lead, STAGE_REASON)
    await ledger_entries(
        lead.id, [ConsentChange(THIRD_PARTY_SHARING, granted=True)], BASE_TIME, note=CONSENT_NOTE
    )
    return lead


async def a_break_glass_grant(
    user: StaffUser, *, minutes: int = 30, granted_at: datetime | None = None
) -> BreakGlassGrant:
    """An active break-glass grant of ``user`` (as if requested with a fresh code)."""
    now = granted_at or datetime.now(UTC)
    return await store_grant(user, "Customer escalation needs full record", minutes, now)


class PurposeForTests:
    """A data-subject-request purpose provider: ``grants[(user, reference)]`` are the leads
    that request covers for that officer."""

    kind = DSR

    def __init__(self) -> None:
        self.grants: dict[tuple[uuid.UUID, str], frozenset[uuid.UUID]] = {}

    async def subjects(self, principal: Principal, reference: str) -> frozenset[uuid.UUID] | None:
        if principal.user_id is None:
            return None
        return self.grants.get((principal.user_id, reference))


def pseudonym_of(lead_id: uuid.UUID) -> str:
    """The ``psn_…`` an analyst sees for a lead, written out with the cipher directly: one
    AES block over the id's bytes, under the test keyring's pseudonym key."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    from tests.conftest import TEST_KEYRING

    cipher = Cipher(algorithms.AES(TEST_KEYRING.derive("pseudonym")), modes.ECB())  # noqa: S305
    block = cipher.encryptor().update(lead_id.bytes)
    return "psn_" + base64.b32encode(block).decode().rstrip("=").lower()
