"""Routes around the policy that must not work: aliases, fragments, nested lists, lookups
and filters on protected fields, ordering, counts, cursors from someone else's page (refused), and
writes to rows out of scope."""

from __future__ import annotations

import httpx
import pytest

from compliance.consent.ledger import ConsentChange
from compliance.consent.purposes import EMAIL_MARKETING
from identity.models import StaffUser
from identity.roles import Role
from leads.models import Lead
from tests.builders import (
    a_full_lead,
    a_lead,
    a_staff_user,
    a_team,
    graphql,
    ledger_entries,
    session_token,
)


async def _rep_and_stranger() -> tuple[StaffUser, Lead, Lead]:
    home, away = await a_team(), await a_team()
    rep = await a_staff_user(Role.SALES_REP, home)
    stranger = await a_staff_user(Role.SALES_REP, away)
    mine = await a_full_lead(rep, home, "mine@example.com")
    theirs = await a_full_lead(stranger, away, "theirs@example.com")
    return rep, mine, theirs


def _codes(body: dict[str, object]) -> list[str]:
    errors = body.get("errors") or []
    assert isinstance(errors, list)
    return [e["extensions"]["code"] for e in errors]


async def test_aliases_do_not_unmask_and_each_alias_is_marked(
    anonymous_client: httpx.AsyncClient,
) -> None:
    marketer = await a_staff_user(Role.MARKETER)
    lead = await a_full_lead(None, None, "jane.doe@example.com")

    body = await graphql(
        anonymous_client,
        "query ($id: ID!) { lead(id: $id) { a: email b: email p: phone } }",
        {"id": str(lead.id)},
        token=await session_token(marketer),
    )

    assert body["data"]["lead"] == {"a": "j•••@example.com", "b": "j•••@example.com", "p": None}
    assert [m["path"] for m in body["extensions"]["access"]["masked"]] == [
        ["lead", "a"],
        ["lead", "b"],
    ]
    assert body["errors"][0]["path"] == ["lead", "p"]
    assert _codes(body) == ["FORBIDDEN"]


async def test_an_alias_for_another_reps_lead_finds_nothing(
    anonymous_client: httpx.AsyncClient,
) -> None:
    rep, mine, theirs = await _rep_and_stranger()

    body = await graphql(
        anonymous_client,
        "query ($a: ID!, $b: ID!) { a: lead(id: $a) { email } b: lead(id: $b) { email } }",
        {"a": str(mine.id), "b": str(theirs.id)},
        token=await session_token(rep),
    )

    assert body["data"] == {"a": {"email": "mine@example.com"}, "b": None}
    assert "errors" not in body


async def test_fragments_are_governed_like_fields(anonymous_client: httpx.AsyncClient) -> None:
    marketer = await a_staff_user(Role.MARKETER)
    lead = await a_full_lead(None, None, "jane@example.com")
    query = """query ($id: ID!) { lead(id: $id) { ...Contact ... on Lead { notes } } }
    fragment Contact on Lead { phone firstName }"""

    body = await graphql(
        anonymous_client, query, {"id": str(lead.id)}, token=await session_token(marketer)
    )

    assert body["data"]["lead"] == {"phone": None, "firstName": "A•••", "notes": None}
    assert sorted(e["path"][-1] for e in body["errors"]) == ["notes", "phone"]


async def test_nested_lists_deny_every_row(anonymous_client: httpx.AsyncClient) -> None:
    analyst = await a_staff_user(Role.ANALYST)
    for n in range(3):
        await a_full_lead(None, None, f"p{n}@example.com")

    body = await graphql(
        anonymous_client,
        "{ leads(first: 10) { edges { node { id stageHistory { reason } } } } }",
        token=await session_token(analyst),
    )

    edges = body["data"]["leads"]["edges"]
    assert len(edges) == 3
    assert all(e["node"]["id"].startswith("psn_") for e in edges)
    denied = [e["path"] for e in body["errors"] if e["path"][-1] == "reason"]
    assert len(denied) == 3 * 2  # each lead: its first stage and the MQL move


async def test_pseudonyms_are_stable_and_not_the_id(anonymous_client: httpx.AsyncClient) -> None:
    analyst = await a_staff_user(Role.ANALYST)
    lead = await a_full_lead(None, None, "p@example.com")
    token = await session_token(analyst)
    query = "{ leads { edges { node { id } } } }"

    first = await graphql(anonymous_client, query, token=token)
    second = await graphql(anonymous_client, query, token=token)

    pseudonym = first["data"]["leads"]["edges"][0]["node"]["id"]
    assert pseudonym == second["data"]["leads"]["edges"][0]["node"]["id"]
    assert str(lead.id) not in str(first)
    assert pseudonym.startswith("psn_")


@pytest.mark.parametrize(
    ("role", "argument", "value"),
    [
        (Role.MARKETER, "email", "jane@example.com"),
        (Role.MARKETER, "phone", "+442079460912"),
        (Role.ANALYST, "email", "jane@example.com"),
    ],
)
async def test_a_lookup_by_a_value_the_caller_may_not_read_finds_nothing(
    anonymous_client: httpx.AsyncClient, role: Role, argument: str, value: str
) -> None:
    viewer = await a_staff_user(role)
    await a_full_lead(None, None, "jane@example.com")

    body = await graphql(
        anonymous_client,
        f"query ($v: String!) {{ lead({argument}: $v) {{ companyName }} }}",
        {"v": value},
        token=await session_token(viewer),
    )

    assert body["data"] == {"lead": None}


async def test_a_lookup_works_once_the_lead_consented(
    anonymous_client: httpx.AsyncClient,
) -> None:
    marketer = await a_staff_user(Role.MARKETER)
    lead = await a_full_lead(None, None, "jane@example.com")
    await ledger_entries(lead.id, [ConsentChange(EMAIL_MARKETING, granted=True)])

    body = await graphql(
        anonymous_client,
        '{ lead(email: "jane@example.com") { email } }',
        token=await session_token(marketer),
    )

    assert body["data"] == {"lead": {"email": "jane@example.com"}}
    assert "access" not in body["extensions"]


async def test_a_rep_cannot_reach_another_reps_lead_by_lookup_filter_order_or_count(
    anonymous_client: httpx.AsyncClient,
) -> None:
    rep, mine, theirs = await _rep_and_stranger()
    token = await session_token(rep)

    by_email = await graphql(
        anonymous_client, '{ lead(email: "theirs@example.com") { id } }', token=token
    )
    by_owner = await graphql(
        anonymous_client,
        "query ($o: ID!) { leads(filter: {ownerId: $o}) { totalCount edges { node { id } } } }",
        {"o": str(theirs.owner_id)},
        token=token,
    )
    ordered = await graphql(
        anonymous_client,
        "{ leads(orderBy: {field: SCORE, direction: DESC}) { totalCount edges { node { id } } } }",
        token=token,
    )

    assert by_email["data"] == {"lead": None}
    assert by_owner["data"]["leads"] == {"totalCount": 0, "edges": []}
    assert ordered["data"]["leads"] == {
        "totalCount": 1,
        "edges": [{"node": {"id": str(mine.id)}}],
    }


async def test_a_cursor_from_another_principals_page_is_refused(
    anonymous_client: httpx.AsyncClient,
) -> None:
    team = await a_team()
    rep = await a_staff_user(Role.SALES_REP, team)
    marketer = await a_staff_user(Role.MARKETER)
    for _ in range(2):
        await a_lead(owner_id=rep.id, team_id=team.id)
    query = (
        "query ($after: String) { leads(first: 1, after: $after) { edges { cursor node { id } } } }"
    )
    marketer_page = await graphql(anonymous_client, query, token=await session_token(marketer))
    their_cursor = marketer_page["data"]["leads"]["edges"][0]["cursor"]

    body = await graphql(
        anonymous_client, query, {"after": their_cursor}, token=await session_token(rep)
    )

    assert body["data"] == {"leads": None}
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "after"}


@pytest.mark.parametrize(
    "mutation",
    [
        'updateLead(id: $id, input: {notes: "x"}) { __typename }',
        "changeStage(leadId: $id, to: MQL) { __typename }",
        "recordActivity(input: {leadId: $id, type: CALL}) { __typename }",
    ],
)
async def test_writes_to_another_reps_lead_look_like_a_missing_lead(
    anonymous_client: httpx.AsyncClient, mutation: str
) -> None:
    rep, _, theirs = await _rep_and_stranger()

    body = await graphql(
        anonymous_client,
        f"mutation ($id: ID!) {{ {mutation} }}",
        {"id": str(theirs.id)},
        token=await session_token(rep),
    )

    assert next(iter(body["data"].values())) == {"__typename": "NotFound"}


@pytest.mark.parametrize(
    ("role", "operation"),
    [
        (Role.ANALYST, 'createLead(input: {email: "x@example.com", source: API}) { __typename }'),
        (
            Role.MARKETER,
            'updateLead(id: "00000000-0000-0000-0000-000000000000", input: {}) { __typename }',
        ),
        (
            Role.AUDITOR,
            'changeStage(leadId: "00000000-0000-0000-0000-000000000000", to: MQL) { __typename }',
        ),
        (
            Role.COMPLIANCE_OFFICER,
            'recordActivity(input: {leadId: "00000000-0000-0000-0000-000000000000", '
            "type: CALL}) { __typename }",
        ),
    ],
)
async def test_operations_outside_a_role_are_refused_before_they_run(
    anonymous_client: httpx.AsyncClient, role: Role, operation: str
) -> None:
    viewer = await a_staff_user(role)

    body = await graphql(
        anonymous_client, f"mutation {{ {operation} }}", token=await session_token(viewer)
    )

    assert body["data"] is None
    assert _codes(body) == ["FORBIDDEN"]
    assert await Lead.all().count() == 0


async def test_a_duplicate_of_a_lead_whose_email_is_masked_is_not_confirmed(
    anonymous_client: httpx.AsyncClient,
) -> None:
    """Creating a lead must not be a way to learn that an email exists: the answer for a
    duplicate the caller may not read is that of any new lead."""
    marketer = await a_staff_user(Role.MARKETER)
    await a_full_lead(None, None, "jane@example.com")
    token = await session_token(marketer)
    create = (
        "mutation ($email: String!) { createLead(input: {email: $email, source: API}) "
        "{ __typename ... on LeadPayload { lead { stage email } } "
        "... on DuplicateLead { existingLeadId } } }"
    )

    duplicate = await graphql(anonymous_client, create, {"email": "jane@example.com"}, token=token)
    fresh = await graphql(anonymous_client, create, {"email": "june@example.com"}, token=token)

    assert duplicate["data"]["createLead"]["__typename"] == "LeadPayload"
    assert set(duplicate["data"]["createLead"]["lead"]) == set(fresh["data"]["createLead"]["lead"])
    assert duplicate.get("errors") == fresh.get("errors") is None
    assert await Lead.all().count() == 3


async def test_a_manager_assigns_within_the_team_and_not_outside_it(
    anonymous_client: httpx.AsyncClient,
) -> None:
    home, away = await a_team(), await a_team()
    manager = await a_staff_user(Role.SALES_MANAGER, home)
    teammate = await a_staff_user(Role.SALES_REP, home)
    outsider = await a_staff_user(Role.SALES_REP, away)
    lead = await a_full_lead(None, home, "team@example.com")
    assign = """mutation ($id: ID!, $owner: ID!) { updateLead(id: $id, input: {ownerId: $owner}) {
      __typename ... on LeadPayload { lead { ownerId } }
      ... on ValidationErrors { errors { field code } } } }"""
    token = await session_token(manager)

    inside = await graphql(
        anonymous_client, assign, {"id": str(lead.id), "owner": str(teammate.id)}, token=token
    )
    outside = await graphql(
        anonymous_client, assign, {"id": str(lead.id), "owner": str(outsider.id)}, token=token
    )

    assert inside["data"]["updateLead"]["lead"] == {"ownerId": str(teammate.id)}
    assert outside["data"]["updateLead"]["errors"] == [{"field": "ownerId", "code": "out_of_scope"}]
    assert (await Lead.get(id=lead.id)).owner_id == teammate.id


async def test_a_rep_cannot_hand_a_lead_to_someone_else(
    anonymous_client: httpx.AsyncClient,
) -> None:
    rep, mine, _ = await _rep_and_stranger()
    colleague = await a_staff_user(Role.SALES_REP)

    body = await graphql(
        anonymous_client,
        """mutation ($id: ID!, $owner: ID!) { updateLead(id: $id, input: {ownerId: $owner}) {
          ... on ValidationErrors { errors { field code } } } }""",
        {"id": str(mine.id), "owner": str(colleague.id)},
        token=await session_token(rep),
    )

    assert body["data"]["updateLead"]["errors"] == [{"field": "ownerId", "code": "out_of_scope"}]
