"""Decisions at their edges: outside GraphQL, under a row scope of none, without a grant,
and the strategies whose answers must differ from lead to lead."""

from __future__ import annotations

import base64
import uuid

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from compliance.access.decide import Decision, Subject, decide, decide_now, in_scope
from compliance.access.masking import EmailMask, InitialMask, Maskers, PseudonymMask, UnknownMask
from compliance.access.policy import required_policy
from compliance.access.rules import Access, Actor, FieldPolicy, RowScope, for_purpose, with_consent
from compliance.consent.purposes import EMAIL_MARKETING
from identity.principal import Principal
from identity.roles import Role
from tests.builders import a_lead

KEY = bytes(range(32))
ME, TEAMMATE = uuid.UUID(int=1), uuid.UUID(int=2)
MY_TEAM, OTHER_TEAM = 1, 2


def _subject(owner: uuid.UUID | None, team: int | None) -> Subject:
    return Subject(lead_id=uuid.uuid4(), owner_id=owner, team_id=team)


def test_a_pseudonym_is_the_lead_id_enciphered_as_one_aes_block() -> None:
    value = "6f1c2a3e-0000-4000-8000-000000000001"
    block = Cipher(algorithms.AES(KEY), modes.ECB()).encryptor().update(uuid.UUID(value).bytes)  # noqa: S305

    pseudonym = PseudonymMask(KEY).apply(value)

    assert pseudonym == "psn_" + base64.b32encode(block).decode().rstrip("=").lower()
    assert PseudonymMask(KEY).resolve(pseudonym) == uuid.UUID(value)


@pytest.mark.parametrize(
    "text",
    ["6f1c2a3e-0000-4000-8000-000000000001", "psn_", "psn_!!", "psn_aaaa", "PSN_x", ""],
)
def test_what_is_not_a_pseudonym_resolves_to_nothing(text: str) -> None:
    assert PseudonymMask(KEY).resolve(text) is None


def test_a_pseudonym_under_another_key_resolves_to_another_id() -> None:
    lead_id = uuid.uuid4()
    pseudonym = PseudonymMask(KEY).apply(str(lead_id))

    assert PseudonymMask(bytes(32)).resolve(pseudonym) != lead_id


def test_a_thousand_leads_get_a_thousand_pseudonyms() -> None:
    mask = PseudonymMask(KEY)
    ids = [str(uuid.UUID(int=n)) for n in range(1000)]

    assert len({mask.apply(i) for i in ids}) == 1000


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("@example.com", "•••"),
        ("a@b@example.com", "a•••@example.com"),
        ("ada@", "a•••@"),
    ],
)
def test_email_masking_of_odd_addresses(value: str, masked: str) -> None:
    assert EmailMask().apply(value) == masked


@pytest.mark.parametrize("scope", list(RowScope))
def test_a_row_scope_of_none_reaches_not_even_ones_own_lead(scope: RowScope) -> None:
    principal = Principal(role=Role.ADMIN, user_id=ME, team_id=MY_TEAM)
    own = _subject(ME, MY_TEAM)

    reached = in_scope(scope, principal, own)

    assert reached is (scope in (RowScope.ALL, RowScope.OWN, RowScope.TEAM))


def test_an_auditor_and_an_admin_reach_no_lead_they_would_own() -> None:
    email = required_policy("Lead", "email")
    for role in (Role.AUDITOR, Role.ADMIN):
        principal = Principal(role=role, user_id=ME, team_id=MY_TEAM)
        assert decide(principal, email, _subject(ME, MY_TEAM)).access is Access.DENY


def test_an_ordinary_reveal_is_not_flagged_as_break_glass() -> None:
    email = required_policy("Lead", "email")
    rep = Principal(role=Role.SALES_REP, user_id=ME, team_id=MY_TEAM)

    decision = decide(rep, email, _subject(ME, MY_TEAM))

    assert decision.access is Access.REVEAL
    assert decision.break_glass is False


async def test_outside_graphql_a_rep_sees_own_leads_and_a_manager_the_teams() -> None:
    email = required_policy("Lead", "email")
    rep = Principal(role=Role.SALES_REP, user_id=ME, team_id=MY_TEAM)
    manager = Principal(role=Role.SALES_MANAGER, user_id=uuid.uuid4(), team_id=MY_TEAM)

    assert (await decide_now(rep, email, _subject(ME, MY_TEAM))).access is Access.REVEAL
    assert (await decide_now(rep, email, _subject(TEAMMATE, MY_TEAM))).access is Access.DENY
    assert (await decide_now(manager, email, _subject(TEAMMATE, MY_TEAM))).access is Access.REVEAL
    assert (await decide_now(manager, email, _subject(ME, OTHER_TEAM))).access is Access.DENY


async def test_outside_graphql_a_marketer_sees_an_email_only_with_consent() -> None:
    email = required_policy("Lead", "email")
    marketer = Principal(role=Role.MARKETER, user_id=uuid.uuid4())
    consented = await a_lead(consents=(EMAIL_MARKETING,))
    silent = await a_lead()

    allowed = await decide_now(marketer, email, Subject(consented.id, None, consented.team_id))
    masked = await decide_now(marketer, email, Subject(silent.id, None, silent.team_id))

    assert allowed.access is Access.REVEAL
    assert (masked.access, masked.mask) == (Access.MASK, "email")


def test_an_empty_value_stays_empty_under_the_initial_mask() -> None:
    assert InitialMask().apply("") == ""


def test_an_unknown_mask_is_named() -> None:
    with pytest.raises(UnknownMask) as unknown:
        Maskers.default(KEY).apply("scramble", "value")
    assert unknown.value.args == ("scramble",)


def test_a_break_glass_rule_bound_to_a_purpose_reveals_only_its_subjects() -> None:
    """decide() serves any policy: a grant whose rule is itself purpose-bound opens only the
    subjects the request's purpose covers, and flags that use."""
    policy = FieldPolicy("contact", {Actor.BREAK_GLASS: for_purpose("data_subject_request")})
    covered, other = _subject(TEAMMATE, OTHER_TEAM), _subject(TEAMMATE, OTHER_TEAM)
    manager = Principal(
        role=Role.SALES_MANAGER,
        user_id=ME,
        team_id=MY_TEAM,
        purpose_subjects=frozenset({covered.lead_id}),
        break_glass_grant_id=uuid.uuid4(),
    )

    assert decide(manager, policy, covered) == Decision(Access.REVEAL, break_glass=True)
    assert decide(manager, policy, other).access is Access.DENY


def test_a_break_glass_rule_that_needs_consent_follows_the_leads_consent() -> None:
    policy = FieldPolicy("contact", {Actor.BREAK_GLASS: with_consent("email_marketing")})
    manager = Principal(
        role=Role.SALES_MANAGER, user_id=ME, team_id=MY_TEAM, break_glass_grant_id=uuid.uuid4()
    )
    stranger = _subject(TEAMMATE, OTHER_TEAM)

    allowed = decide(manager, policy, stranger, frozenset({"email_marketing"}))
    refused = decide(manager, policy, stranger, frozenset())

    assert allowed == Decision(Access.REVEAL, break_glass=True)
    assert refused.access is Access.DENY
