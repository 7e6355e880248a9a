"""A duplicate email the author may not read is created and flagged, never confirmed to
them; the flag is for those who may read the existing lead's email, who record a decision."""

from __future__ import annotations

from typing import Any

import httpx

from audit.models import AuditEvent
from identity.models import StaffUser, Team
from identity.roles import Role
from leads.models import Lead, PossibleDuplicate
from tests.builders import a_lead, a_staff_user, a_team, graphql, session_token

CREATE = """mutation ($email: String!) { createLead(input: {email: $email, source: API}) {
  __typename ... on LeadPayload { lead { id } } ... on DuplicateLead { existingLeadId } } }"""
FLAGS = """query ($id: ID!) { lead(id: $id) {
  possibleDuplicates { id otherLeadId kind status resolvedAt } } }"""
RESOLVE = """mutation ($id: ID!, $same: Boolean!) {
  resolvePossibleDuplicate(id: $id, samePerson: $same) {
    __typename ... on DuplicateResolved { status } } }"""


async def _as(client: httpx.AsyncClient, user: StaffUser, query: str, **variables: Any) -> Any:
    return await graphql(client, query, variables, token=await session_token(user))


async def _two_teams() -> tuple[StaffUser, StaffUser, StaffUser, Lead]:
    home, away = await a_team(), await a_team()
    owner = await a_staff_user(Role.SALES_REP, home)
    manager = await a_staff_user(Role.SALES_MANAGER, home)
    stranger = await a_staff_user(Role.SALES_REP, away)
    existing = await a_lead(email="ada@example.com", owner_id=owner.id, team_id=home.id)
    return owner, manager, stranger, existing


async def test_a_rep_in_another_team_gets_an_ordinary_answer_and_sees_no_flag(
    anonymous_client: httpx.AsyncClient,
) -> None:
    _, _, stranger, _ = await _two_teams()

    body = await _as(anonymous_client, stranger, CREATE, email="ada@example.com")

    created = body["data"]["createLead"]
    assert created["__typename"] == "LeadPayload"
    mine = await _as(anonymous_client, stranger, FLAGS, id=created["lead"]["id"])
    assert mine["data"]["lead"]["possibleDuplicates"] == []


async def test_the_existing_leads_owner_and_manager_see_the_flag(
    anonymous_client: httpx.AsyncClient,
) -> None:
    owner, manager, stranger, existing = await _two_teams()
    await _as(anonymous_client, stranger, CREATE, email="ada@example.com")

    for reviewer in (owner, manager):
        body = await _as(anonymous_client, reviewer, FLAGS, id=str(existing.id))
        [flag] = body["data"]["lead"]["possibleDuplicates"]
        assert flag["otherLeadId"] is None  # the new lead is not theirs to read
        assert (flag["kind"], flag["status"], flag["resolvedAt"]) == ("email", "OPEN", None)


async def test_a_flag_within_the_team_names_both_leads(
    anonymous_client: httpx.AsyncClient,
) -> None:
    owner, manager, _, existing = await _two_teams()
    colleague = await a_staff_user(Role.SALES_REP, await Team.get(id=owner.team_id))
    created = await _as(anonymous_client, colleague, CREATE, email="ada@example.com")
    new_id = created["data"]["createLead"]["lead"]["id"]

    body = await _as(anonymous_client, manager, FLAGS, id=new_id)

    [flag] = body["data"]["lead"]["possibleDuplicates"]
    assert flag["otherLeadId"] == str(existing.id)


async def test_only_someone_shown_the_flag_may_decide_it(
    anonymous_client: httpx.AsyncClient,
) -> None:
    owner, _, stranger, existing = await _two_teams()
    await _as(anonymous_client, stranger, CREATE, email="ada@example.com")
    flag = await PossibleDuplicate.get(existing_id=existing.id)

    refused = await _as(anonymous_client, stranger, RESOLVE, id=str(flag.id), same=True)
    decided = await _as(anonymous_client, owner, RESOLVE, id=str(flag.id), same=False)

    assert refused["data"]["resolvePossibleDuplicate"]["__typename"] == "NotFound"
    assert decided["data"]["resolvePossibleDuplicate"] == {
        "__typename": "DuplicateResolved",
        "status": "DIFFERENT_PEOPLE",
    }
    stored = await PossibleDuplicate.get(id=flag.id)
    assert (stored.status, stored.resolved_by_id) == ("different_people", owner.id)
    event = await AuditEvent.get(action="lead.duplicate.resolved")
    assert set(event.subject_ids) == {str(flag.lead_id), str(existing.id)}


async def test_changing_an_email_to_one_taken_out_of_sight_is_flagged_too(
    anonymous_client: httpx.AsyncClient,
) -> None:
    _, _, stranger, existing = await _two_teams()
    created = await _as(anonymous_client, stranger, CREATE, email="someone@example.com")
    lead_id = created["data"]["createLead"]["lead"]["id"]

    body = await _as(
        anonymous_client,
        stranger,
        'mutation ($id: ID!) { updateLead(id: $id, input: {email: "ada@example.com"}) '
        "{ __typename } }",
        id=lead_id,
    )

    assert body["data"]["updateLead"]["__typename"] == "LeadPayload"
    assert await PossibleDuplicate.filter(lead_id=lead_id, existing_id=existing.id).exists()
