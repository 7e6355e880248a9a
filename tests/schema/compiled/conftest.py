"""A world of leads that exercises every branch of the policy, and a pair of apps (compiled
reads on, and off) to ask the same question of both."""

from __future__ import annotations

import base64
import json
import struct
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from audit.models import AuditEvent
from compliance.access.policy import DSR
from compliance.consent.purposes import EMAIL_MARKETING, PROFILING
from crypto import cursors
from crypto.vault import shred_subject
from identity.models import StaffUser, Team
from identity.roles import Role
from leads.enums import ActivityType, Stage
from leads.models import Activity, Lead, Task, TaskKind
from leads.scoring.models import ScoreHistory
from schema import LeadVaultSchema
from server.app import GraphQLApp, create_app
from server.settings import Settings
from tests.builders import (
    BASE_TIME,
    PurposeForTests,
    a_break_glass_grant,
    a_campaign,
    a_full_lead,
    a_lead,
    a_staff_user,
    a_stage_change,
    a_team,
    bearer,
    pseudonym_of,
    session_token,
)
from tests.conftest import TEST_KEYRING


@dataclass(frozen=True)
class Viewer:
    name: str
    role: Role
    break_glass: bool = False
    declares_purpose: bool = False


VIEWERS = (
    Viewer("sales_rep", Role.SALES_REP),
    Viewer("sales_manager", Role.SALES_MANAGER),
    Viewer("marketer", Role.MARKETER),
    Viewer("analyst", Role.ANALYST),
    Viewer("compliance_officer", Role.COMPLIANCE_OFFICER, declares_purpose=True),
    Viewer("compliance_officer_no_purpose", Role.COMPLIANCE_OFFICER),
    Viewer("auditor", Role.AUDITOR),
    Viewer("admin", Role.ADMIN),
    Viewer("manager_break_glass", Role.SALES_MANAGER, break_glass=True),
    Viewer("admin_break_glass", Role.ADMIN, break_glass=True),
)


@dataclass
class World:
    leads: list[Lead]
    erased: Lead
    users: dict[str, StaffUser] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def lookup_id(self, viewer: Viewer, lead: Lead) -> str:
        return pseudonym_of(lead.id) if viewer.role is Role.ANALYST else str(lead.id)


async def _seed() -> tuple[list[Lead], Lead, Team, StaffUser]:
    team = await a_team()
    other_team = await a_team()
    rep = await a_staff_user(Role.SALES_REP, team)
    other_rep = await a_staff_user(Role.SALES_REP, other_team)
    campaign = await a_campaign()
    full = await a_full_lead(rep, team, "ada@example.com")
    others = await a_full_lead(other_rep, other_team, "grace@example.com")
    erased = await a_full_lead(rep, team, "gone@example.com")
    consenting = await a_lead(
        owner_id=rep.id,
        team_id=team.id,
        consents=(EMAIL_MARKETING, PROFILING),
        campaign_id=campaign.id,
        company_name="Analytical Engines",
        deal_value=1250,
        sql_at=BASE_TIME,
        first_touch_at=BASE_TIME + timedelta(minutes=42),
        score=71,
        score_breakdown=[{"rule": "title", "section": "fit", "points": 71, "matches": 1}],
    )
    unbased = await a_lead(bases=False, team_id=team.id, owner_id=None, stage=Stage.MQL)
    for n in range(7):
        await Activity.create(
            lead_id=consenting.id,
            type=ActivityType.EMAIL_OPEN if n % 2 else ActivityType.PAGE_VIEW,
            occurred_at=BASE_TIME + timedelta(hours=n),
            details={"n": n},
        )
    await a_stage_change(consenting, "Asked for a demo", Stage.SQL)
    await Task.create(
        lead_id=consenting.id,
        owner_id=rep.id,
        kind=TaskKind.FIRST_CONTACT,
        step=0,
        due_at=BASE_TIME + timedelta(hours=1),
        created_at=BASE_TIME,
    )
    await ScoreHistory.create(
        lead_id=consenting.id,
        model_version=1,
        score=71,
        fit_score=71,
        engagement_score=0,
        breakdown=[],
        trigger="model",
        computed_at=BASE_TIME,
    )
    await shred_subject(erased.id)
    return [full, others, erased, consenting, unbased], erased, team, rep


@pytest.fixture
async def world(database: str, dsr_purposes: PurposeForTests) -> World:
    leads, erased, team, rep = await _seed()
    found = World(leads=leads, erased=erased)
    for viewer in VIEWERS:
        # the sales rep is the one who owns most of the leads
        user = rep if viewer.name == "sales_rep" else await a_staff_user(viewer.role, team)
        headers = bearer(await session_token(user))
        if viewer.break_glass:
            await a_break_glass_grant(user)
        if viewer.declares_purpose:
            dsr_purposes.grants[(user.id, "req-1")] = frozenset({leads[0].id, erased.id})
            headers["X-LeadVault-Purpose"] = f"{DSR}:req-1"
        found.users[viewer.name] = user
        found.headers[viewer.name] = headers
    return found


def plans_of(app: Any) -> Any:
    for route in app.routes:
        endpoint = getattr(route, "endpoint", None)
        if isinstance(endpoint, GraphQLApp):
            schema = endpoint.schema
            assert isinstance(schema, LeadVaultSchema)
            return schema.plans
    raise AssertionError("no GraphQL route")


@dataclass
class Answer:
    body: dict[str, Any]
    event: dict[str, Any] | None


class Pair:
    """The same app twice: compiled reads on, and off (the general executor only)."""

    def __init__(self, compiled: httpx.AsyncClient, general: httpx.AsyncClient, plans: Any):
        self.compiled = compiled
        self.general = general
        self.plans = plans

    async def ask(
        self, headers: dict[str, str], query: str, variables: dict[str, Any] | None = None
    ) -> tuple[Answer, Answer]:
        return (
            await _answer(self.compiled, headers, query, variables),
            await _answer(self.general, headers, query, variables),
        )


async def _answer(
    client: httpx.AsyncClient, headers: dict[str, str], query: str, variables: Any
) -> Answer:
    before = await AuditEvent.all().order_by("-id").first()
    last = before.id if before else 0
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    body = response.json()
    body.get("extensions", {}).pop("rateLimit", None)  # the caller's budget, spent twice
    reads = await AuditEvent.filter(id__gt=last, action="lead.read").order_by("id")
    assert len(reads) <= 1
    event = None
    if reads:
        row = reads[0]
        event = {
            "outcome": row.outcome,
            "actor": (row.actor_type, row.actor_id, row.actor_role),
            "subjects": row.subject_ids,
            "fields": row.fields_touched,
            "masked": row.fields_masked,
            "denied": row.fields_denied,
            "purpose": row.purpose,
            "details": row.details,
        }
    return Answer(body=opened_cursors(body), event=event)


def opened_cursors(value: Any) -> Any:
    """``value`` with every cursor replaced by what it seals (its list, row and sort value;
    not its random nonce nor its expiry second), so two answers compare by position."""
    if isinstance(value, dict):
        return {k: opened_cursors(v) for k, v in value.items()}
    if isinstance(value, list):
        return [opened_cursors(v) for v in value]
    if isinstance(value, str) and value.startswith(cursors.PREFIX):
        return _open_any(value)
    return value


def _open_any(cursor: str) -> str:
    raw = base64.urlsafe_b64decode(cursor[len(cursors.PREFIX) :] + "==")
    (version,) = struct.unpack(">I", raw[:4])
    sealed = AESGCM(TEST_KEYRING.derive(cursors.PURPOSE, version))
    for associated in _CURSOR_CONTEXTS:
        try:
            payload = sealed.decrypt(raw[4:16], raw[16:], associated)
        except Exception:  # noqa: S112 - not this list: try the next
            continue
        value, row_id, _expires = json.loads(payload)
        return f"cursor({associated.decode()}|{value}|{row_id})"
    raise AssertionError("a cursor no known list opens")


_CURSOR_CONTEXTS: list[bytes] = []


@pytest.fixture
async def pair(settings: Settings, world: World) -> Any:
    _CURSOR_CONTEXTS.clear()
    kinds = ["activity"] + [
        f"lead:{f}:{d}"
        for f in ("created_at", "updated_at", "stage_entered_at", "score")
        for d in ("asc", "desc")
    ]
    for viewer in VIEWERS:
        binding = f"user:{world.users[viewer.name].id}:{viewer.role.value}"
        _CURSOR_CONTEXTS.extend(f"leadvault-cursor|{k}|{binding}".encode() for k in kinds)
    compiled_app = create_app(settings, manage_database=False)
    general_app = create_app(replace(settings, compiled_reads=False), manage_database=False)
    assert plans_of(general_app) is None
    async with (
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=compiled_app), base_url="http://testserver"
        ) as compiled,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=general_app), base_url="http://testserver"
        ) as general,
    ):
        yield Pair(compiled, general, plans_of(compiled_app))
