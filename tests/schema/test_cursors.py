"""Pagination cursors are sealed: they carry no lead id or pseudonym, only the principal
they were issued to can use them, on the list and ordering they came from, for an hour; an
edited, forged or old-style cursor is refused naming the argument. Pseudonymous readers
open leads by pseudonym, never by real id."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from audit.events import Actor, Event, Outcome, record
from core.cursors import CursorExpired, InvalidCursor
from crypto.cursors import LIFETIME, open_cursor, seal_cursor
from crypto.keyring import Keyring
from crypto.keystore import SubjectKeyStore
from crypto.vault import Vault, current_vault, install_vault
from identity.roles import Role
from schema.access.state import pseudonym_candidates
from tests.builders import a_lead, a_staff_user, graphql, principal_for, session_token
from tests.conftest import TEST_KEYRING

PAGE = """query ($after: String) {
  leads(first: 1, after: $after) { edges { cursor node { id } } pageInfo { endCursor } }
}"""
AUDIT_PAGE = """query ($after: String) {
  auditEvents(first: 1, after: $after) { edges { cursor } }
}"""
KIND = "lead:created_at:desc"


def _refused(body: dict[str, object]) -> str:
    errors = body["errors"]
    assert isinstance(errors, list)
    assert errors[0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "after"}
    return str(errors[0]["message"])


async def test_an_analysts_cursor_carries_neither_the_lead_id_nor_its_pseudonym(
    anonymous_client: httpx.AsyncClient,
) -> None:
    analyst = await a_staff_user(Role.ANALYST)
    leads = [await a_lead() for _ in range(3)]
    token = await session_token(analyst)

    body = await graphql(anonymous_client, PAGE, token=token)

    edge = body["data"]["leads"]["edges"][0]
    cursor, pseudonym = edge["cursor"], edge["node"]["id"]
    assert pseudonym.startswith("psn_")
    raw = base64.urlsafe_b64decode(cursor[3:] + "=" * (-len(cursor[3:]) % 4))
    for lead in leads:
        for form in (str(lead.id), lead.id.hex):
            assert form not in cursor
            assert form.encode() not in raw
        assert lead.id.bytes not in raw
    assert pseudonym not in cursor
    following = await graphql(anonymous_client, PAGE, {"after": cursor}, token=token)
    assert following["data"]["leads"]["edges"][0]["node"]["id"] != pseudonym


async def test_an_old_style_cursor_naming_a_lead_is_refused(client: httpx.AsyncClient) -> None:
    lead = await a_lead()
    text = json.dumps([KIND, lead.created_at.isoformat(), str(lead.id)]).encode()
    forged = base64.urlsafe_b64encode(text).decode().rstrip("=")

    body = await graphql(client, PAGE, {"after": forged})

    assert "not a cursor of this list" in _refused(body)
    assert body["data"] == {"leads": None}


@pytest.mark.parametrize("position", [3, 10, -2])
async def test_an_edited_cursor_is_refused(client: httpx.AsyncClient, position: int) -> None:
    await a_lead()
    await a_lead()
    cursor = (await graphql(client, PAGE))["data"]["leads"]["pageInfo"]["endCursor"]
    flipped = "A" if cursor[position] != "A" else "B"
    edited = cursor[:position] + flipped + cursor[position + 1 :][: len(cursor)]

    assert edited != cursor
    _refused(await graphql(client, PAGE, {"after": edited}))
    _refused(await graphql(client, PAGE, {"after": cursor[:-4]}))


async def test_a_cursor_stops_working_an_hour_after_its_page(
    anonymous_client: httpx.AsyncClient,
) -> None:
    rep = await a_staff_user(Role.SALES_MANAGER)
    lead = await a_lead()
    binding = principal_for(rep).cursor_binding
    issued = datetime.now(UTC) - LIFETIME - timedelta(seconds=5)
    stale = seal_cursor(KIND, binding, lead.created_at, lead.id, now=issued)
    fresh = seal_cursor(KIND, binding, lead.created_at, lead.id)

    expired = await graphql(
        anonymous_client, PAGE, {"after": stale}, token=await session_token(rep)
    )
    usable = await graphql(anonymous_client, PAGE, {"after": fresh}, token=await session_token(rep))

    assert "expired" in _refused(expired)
    assert "errors" not in usable
    with pytest.raises(CursorExpired):
        open_cursor(stale, KIND, binding, datetime, type(lead.id))
    within = issued + LIFETIME - timedelta(seconds=1)
    assert open_cursor(stale, KIND, binding, datetime, type(lead.id), now=within)[1] == lead.id


def test_a_cursor_is_bound_to_its_list_and_its_principal() -> None:
    cursor = seal_cursor(KIND, "user:a:sales_rep", 5, 7)

    assert open_cursor(cursor, KIND, "user:a:sales_rep", int, int) == (5, 7)
    for kind, binding in [
        ("lead:score:desc", "user:a:sales_rep"),
        (KIND, "user:b:sales_rep"),
        (KIND, "user:a:sales_manager"),
    ]:
        with pytest.raises(InvalidCursor):
            open_cursor(cursor, kind, binding, int, int)


async def test_a_lead_cursor_given_to_activities_is_a_client_error(
    client: httpx.AsyncClient,
) -> None:
    lead = await a_lead()
    cursor = (await graphql(client, PAGE))["data"]["leads"]["pageInfo"]["endCursor"]

    body = await graphql(
        client,
        "query ($id: ID!, $after: String) { lead(id: $id) { activities(after: $after) "
        "{ edges { cursor } } } }",
        {"id": str(lead.id), "after": cursor},
    )

    assert [e["extensions"] for e in body["errors"]] == [
        {"code": "BAD_USER_INPUT", "argument": "after"}
    ]


async def test_another_auditors_audit_cursor_is_refused(
    anonymous_client: httpx.AsyncClient,
) -> None:
    one, other = await a_staff_user(Role.AUDITOR), await a_staff_user(Role.AUDITOR)
    for _ in range(2):
        await record(Event("test.event", Outcome.SUCCESS, Actor.operator()))
    page = await graphql(anonymous_client, AUDIT_PAGE, token=await session_token(one))
    cursor = page["data"]["auditEvents"]["edges"][0]["cursor"]

    mine = await graphql(
        anonymous_client, AUDIT_PAGE, {"after": cursor}, token=await session_token(one)
    )
    theirs = await graphql(
        anonymous_client, AUDIT_PAGE, {"after": cursor}, token=await session_token(other)
    )

    assert "errors" not in mine
    _refused(theirs)


LEAD_BY_ID = "query ($id: ID!) { lead(id: $id) { id companyName } }"


async def test_an_analyst_opens_a_lead_by_its_pseudonym_but_not_by_its_id(
    anonymous_client: httpx.AsyncClient,
) -> None:
    analyst = await a_staff_user(Role.ANALYST)
    lead = await a_lead()
    await a_lead()
    token = await session_token(analyst)
    listed = await graphql(anonymous_client, "{ leads { edges { node { id } } } }", token=token)
    pseudonyms = [e["node"]["id"] for e in listed["data"]["leads"]["edges"]]

    by_pseudonym = [
        (await graphql(anonymous_client, LEAD_BY_ID, {"id": p}, token=token))["data"]["lead"]
        for p in pseudonyms
    ]
    by_id = await graphql(anonymous_client, LEAD_BY_ID, {"id": str(lead.id)}, token=token)
    forged = await graphql(anonymous_client, LEAD_BY_ID, {"id": "psn_" + "a" * 26}, token=token)

    assert [found["id"] for found in by_pseudonym] == pseudonyms
    assert (by_id["data"], by_id.get("errors")) == ({"lead": None}, None)
    assert (forged["data"], forged.get("errors")) == ({"lead": None}, None)


async def test_a_manager_still_opens_a_lead_by_its_id(client: httpx.AsyncClient) -> None:
    lead = await a_lead()

    body = await graphql(client, LEAD_BY_ID, {"id": str(lead.id)})

    assert body["data"]["lead"]["id"] == str(lead.id)


async def test_a_pseudonym_from_before_a_master_key_rotation_still_resolves() -> None:
    lead = await a_lead()
    from compliance.access.masking import PseudonymMask

    before = PseudonymMask(TEST_KEYRING.derive("pseudonym", 1)).apply(str(lead.id))
    original = current_vault()
    rotated = Keyring({1: TEST_KEYRING.master_key(1), 2: bytes([9]) * 32})
    install_vault(Vault(rotated, SubjectKeyStore(rotated)))
    try:
        candidates = pseudonym_candidates(before)
    finally:
        install_vault(original)

    assert lead.id in candidates
    assert len(candidates) == 2
