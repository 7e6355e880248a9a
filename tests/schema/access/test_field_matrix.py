"""The whole policy, run: every actor × every sensitive field × a lead they own, one of
their team's, and someone else's. Expectations are generated from the declared policy, so
the test follows the policy and fails when enforcement does not."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from compliance.access.masking import Maskers
from compliance.access.policy import DSR, POLICY, ROW_SCOPES
from compliance.access.rules import Access, Actor, Relation, RowScope
from compliance.consent.ledger import ConsentChange, basis_changes
from compliance.consent.purposes import THIRD_PARTY_SHARING
from identity.models import StaffUser
from identity.roles import Role
from leads.models import Lead
from tests.builders import (
    ACTIVITY_DETAILS,
    CONSENT_NETWORK,
    CONSENT_NOTE,
    FULL_LEAD_VALUES,
    STAGE_REASON,
    PurposeForTests,
    a_break_glass_grant,
    a_full_lead,
    a_staff_user,
    a_team,
    bearer,
    pseudonym_of,
    session_token,
)
from tests.conftest import TEST_KEYRING

QUERY = """query ($id: ID!) { lead(id: $id) {
  id firstName lastName email phone jobTitle notes companyName companyDomain
  activities(first: 1) { edges { node { details } } }
  stageHistory { toStage reason }
  consents { purpose status }
  consentHistory { purpose kind }
  evidence: consentHistory { clientNetwork note }
} }"""
CONSENTS = [
    {"purpose": name, "status": "GRANTED"}
    for name in sorted({*(c.purpose for c in basis_changes()), THIRD_PARTY_SHARING})
]
HISTORY = [
    {"purpose": c.purpose, "kind": "GRANTED"}
    for c in [*basis_changes(), ConsentChange(THIRD_PARTY_SHARING, granted=True)]
]
NESTED_UNDER = {("ConsentRecord", "clientNetwork"), ("ConsentRecord", "note")}
MASKERS = Maskers.default(TEST_KEYRING.derive("pseudonym"))


def _lookup_id(role: Role, lead: Lead) -> str:
    """What the viewer knows the lead by: analysts see (and look up by) pseudonyms only."""
    return pseudonym_of(lead.id) if role is Role.ANALYST else str(lead.id)


@dataclass(frozen=True)
class Case:
    name: str
    role: Role
    break_glass: bool = False
    declares_purpose: bool = False

    @property
    def actor(self) -> Actor:
        return Actor.of_role(self.role)


CASES = [
    Case("sales_rep", Role.SALES_REP),
    Case("sales_manager", Role.SALES_MANAGER),
    Case("marketer", Role.MARKETER),
    Case("analyst", Role.ANALYST),
    Case("compliance_officer_with_purpose", Role.COMPLIANCE_OFFICER, declares_purpose=True),
    Case("compliance_officer_without_purpose", Role.COMPLIANCE_OFFICER),
    Case("auditor", Role.AUDITOR),
    Case("admin", Role.ADMIN),
    Case("sales_manager_break_glass", Role.SALES_MANAGER, break_glass=True),
    Case("admin_break_glass", Role.ADMIN, break_glass=True),
]


def _visible(case: Case, relation: Relation) -> bool:
    if case.break_glass:
        return True
    scope = ROW_SCOPES[case.actor]
    return {
        RowScope.ALL: True,
        RowScope.OWN: relation is Relation.OWN,
        RowScope.TEAM: relation is not Relation.OTHER,
        RowScope.PURPOSE: case.declares_purpose,
    }.get(scope, False)


def _expected(case: Case, type_name: str, field: str, clear: Any) -> tuple[Access, Any]:
    policy = POLICY[type_name][field]
    rule = policy.rule_for(case.actor)
    if rule.purpose == DSR:
        access = Access.REVEAL if case.declares_purpose else Access.DENY
        strategy = None
    elif rule.consent is not None:  # no consent is recorded in these tests
        access, strategy = rule.otherwise, rule.mask
    else:
        access, strategy = rule.access, rule.mask
    if case.break_glass and policy.rule_for(Actor.BREAK_GLASS).access is Access.REVEAL:
        access = Access.REVEAL
    if access is Access.REVEAL:
        return access, clear
    if access is Access.MASK:
        return access, MASKERS.apply(strategy or "", clear)
    return access, None


async def _people(role: Role) -> tuple[StaffUser, dict[Relation, Lead]]:
    home, away = await a_team(), await a_team()
    viewer = await a_staff_user(role, home)
    teammate = await a_staff_user(Role.SALES_REP, home)
    stranger = await a_staff_user(Role.SALES_REP, away)
    leads = {
        Relation.OWN: await a_full_lead(viewer, home, "own@example.com"),
        Relation.TEAM: await a_full_lead(teammate, home, "team@example.com"),
        Relation.OTHER: await a_full_lead(stranger, away, "other@example.com"),
    }
    return viewer, leads


def _actual(body: dict[str, Any], path: list[str | int]) -> Any:
    value: Any = body["data"]
    for step in path:
        value = value[step]
    return value


@pytest.mark.parametrize("relation", list(Relation), ids=lambda r: r.value)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
async def test_policy_matrix(
    anonymous_client: httpx.AsyncClient,
    dsr_purposes: PurposeForTests,
    case: Case,
    relation: Relation,
) -> None:
    viewer, leads = await _people(case.role)
    lead = leads[relation]
    headers = bearer(await session_token(viewer))
    if case.break_glass:
        await a_break_glass_grant(viewer)
    if case.declares_purpose:
        dsr_purposes.grants[(viewer.id, "req-1")] = frozenset({lead.id})
        headers["X-LeadVault-Purpose"] = f"{DSR}:req-1"

    response = await anonymous_client.post(
        "/graphql",
        json={"query": QUERY, "variables": {"id": _lookup_id(case.role, lead)}},
        headers=headers,
    )
    body = response.json()

    if not _visible(case, relation):
        assert body["data"] == {"lead": None}
        assert "errors" not in body
        return
    history = body["data"]["lead"]["stageHistory"]
    reason_index = next(i for i, h in enumerate(history) if h["toStage"] == "MQL")
    email = {Relation.OWN: "own", Relation.TEAM: "team", Relation.OTHER: "other"}[relation]
    clear_values: dict[tuple[str, str], tuple[list[str | int], Any]] = {
        ("Lead", "id"): (["lead", "id"], str(lead.id)),
        ("Lead", "email"): (["lead", "email"], f"{email}@example.com"),
        ("Activity", "details"): (
            ["lead", "activities", "edges", 0, "node", "details"],
            ACTIVITY_DETAILS,
        ),
        ("StageChange", "reason"): (["lead", "stageHistory", reason_index, "reason"], STAGE_REASON),
        ("Lead", "consents"): (["lead", "consents"], CONSENTS),
        ("Lead", "consentHistory"): (["lead", "consentHistory"], HISTORY),
        ("ConsentRecord", "clientNetwork"): (
            ["lead", "evidence", len(HISTORY) - 1, "clientNetwork"],
            CONSENT_NETWORK,
        ),
        ("ConsentRecord", "note"): (["lead", "evidence", len(HISTORY) - 1, "note"], CONSENT_NOTE),
    }
    for snake, value in FULL_LEAD_VALUES.items():
        camel = snake.split("_")[0] + "".join(p.title() for p in snake.split("_")[1:])
        clear_values[("Lead", camel)] = (["lead", camel], value)
    assert {key for key in clear_values} == {(t, f) for t, fields in POLICY.items() for f in fields}

    denied_paths = [e["path"] for e in body.get("errors", [])]
    assert all(e["extensions"]["code"] == "FORBIDDEN" for e in body.get("errors", []))
    masked_paths = [
        m["path"] for m in body.get("extensions", {}).get("access", {}).get("masked", [])
    ]
    history_access, _ = _expected(case, "Lead", "consentHistory", HISTORY)
    for (type_name, field), (path, clear) in clear_values.items():
        if (type_name, field) in NESTED_UNDER and history_access is Access.DENY:
            assert body["data"]["lead"]["evidence"] is None
            continue
        access, expected = _expected(case, type_name, field, clear)
        assert _actual(body, path) == expected, f"{type_name}.{field}"
        assert (path in denied_paths) == (access is Access.DENY), f"{type_name}.{field}"
        assert (path in masked_paths) == (access is Access.MASK), f"{type_name}.{field}"


async def test_an_undeclared_purpose_kind_is_refused(anonymous_client: httpx.AsyncClient) -> None:
    officer = await a_staff_user(Role.COMPLIANCE_OFFICER)
    headers = bearer(await session_token(officer))
    headers["X-LeadVault-Purpose"] = f"{DSR}:{uuid.uuid4()}"

    response = await anonymous_client.post(
        "/graphql", json={"query": "{ leads { totalCount } }"}, headers=headers
    )

    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "PURPOSE_REFUSED"


async def test_a_purpose_covers_only_its_own_subjects(
    anonymous_client: httpx.AsyncClient, dsr_purposes: PurposeForTests
) -> None:
    officer = await a_staff_user(Role.COMPLIANCE_OFFICER)
    covered = await a_full_lead(None, None, "covered@example.com")
    await a_full_lead(None, None, "elsewhere@example.com")
    dsr_purposes.grants[(officer.id, "req-7")] = frozenset({covered.id})
    headers = bearer(await session_token(officer))
    headers["X-LeadVault-Purpose"] = f"{DSR}:req-7"

    response = await anonymous_client.post(
        "/graphql",
        json={"query": "{ leads { totalCount edges { node { id email } } } }"},
        headers=headers,
    )

    connection = response.json()["data"]["leads"]
    assert connection["totalCount"] == 1
    assert connection["edges"] == [
        {"node": {"id": str(covered.id), "email": "covered@example.com"}}
    ]


async def test_another_officers_request_is_refused(
    anonymous_client: httpx.AsyncClient, dsr_purposes: PurposeForTests
) -> None:
    assigned = await a_staff_user(Role.COMPLIANCE_OFFICER)
    other = await a_staff_user(Role.COMPLIANCE_OFFICER)
    lead = await a_full_lead(None, None, "subject@example.com")
    dsr_purposes.grants[(assigned.id, "req-9")] = frozenset({lead.id})
    headers = bearer(await session_token(other))
    headers["X-LeadVault-Purpose"] = f"{DSR}:req-9"

    response = await anonymous_client.post(
        "/graphql", json={"query": "{ leads { totalCount } }"}, headers=headers
    )

    assert response.status_code == 403


SAMPLE = """query ($id: ID!) { lead(id: $id) {
  id firstName lastName email phone jobTitle notes companyName
} }"""


async def _sample(client: httpx.AsyncClient, role: Role, relation: Relation) -> Any:
    viewer, leads = await _people(role)
    lead = leads[relation]
    response = await client.post(
        "/graphql",
        json={"query": SAMPLE, "variables": {"id": _lookup_id(role, lead)}},
        headers=bearer(await session_token(viewer)),
    )
    return lead, response.json()["data"]["lead"]


async def test_a_hand_written_sample_of_the_matrix(anonymous_client: httpx.AsyncClient) -> None:
    """Expected values written out by hand, not derived from the policy or the maskers."""
    lead, rep_own = await _sample(anonymous_client, Role.SALES_REP, Relation.OWN)
    assert rep_own == {
        "id": str(lead.id),
        "firstName": "Ada",
        "lastName": "Lovelace",
        "email": "own@example.com",
        "phone": "+442079460912",
        "jobTitle": "Head of Engines",
        "notes": "Prefers mornings",
        "companyName": "Analytical Ltd",
    }

    lead, marketer = await _sample(anonymous_client, Role.MARKETER, Relation.OTHER)
    assert marketer == {
        "id": str(lead.id),
        "firstName": "A•••",
        "lastName": "L•••",
        "email": "o•••@example.com",
        "phone": None,
        "jobTitle": None,
        "notes": None,
        "companyName": "Analytical Ltd",
    }

    lead, analyst = await _sample(anonymous_client, Role.ANALYST, Relation.OTHER)
    assert analyst == {
        "id": pseudonym_of(lead.id),
        "firstName": None,
        "lastName": None,
        "email": None,
        "phone": None,
        "jobTitle": None,
        "notes": None,
        "companyName": None,
    }

    _, rep_other = await _sample(anonymous_client, Role.SALES_REP, Relation.OTHER)
    assert rep_other is None
