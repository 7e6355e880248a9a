"""The compiled read path answers exactly as the general executor does: for every actor and
every query of the corpus, the same data, the same errors at the same paths, the same
``extensions`` and the same audit event. This is what shows the fast path is not a way
around the policy."""

from __future__ import annotations

from typing import Any

import pytest

from compliance.consent.purposes import EMAIL_MARKETING
from identity.roles import Role
from tests.schema.compiled.conftest import VIEWERS, Pair, Viewer, World

EVERY_LEAD_FIELD = """
  __typename id firstName lastName email phone jobTitle notes companyName companyDomain
  seniority country region companySize industry source channel
  utm { source medium campaign term content } bant { budget authority need timeline }
  stage status stageEnteredAt createdAt updatedAt lastEngagedAt dealValue wonAmount sqlAt
  firstTouchAt assignedAt assignmentReason ownerId teamId campaignId
  score fitScore engagementScore scoredAt scoreStatus
  scoreBreakdown { rule section points matches }
  scoreHistory { modelVersion score fitScore engagementScore trigger computedAt
                 breakdown { rule points } }
  consents { purpose status basis noticeVersion source since expiresAt }
  consentHistory { id purpose kind basis source occurredAt actorType clientNetwork note }
  owner { __typename id displayName role teamId }
  team { id name }
  campaign { id name channel cost currency startsOn endsOn }
  activities(first: 3) {
    edges { cursor node { __typename id type occurredAt campaignId details } }
    pageInfo { hasNextPage endCursor }
  }
  speedToLeadMinutes
  tasks { id leadId kind step ownerId dueAt completedAt completedById createdAt breached }
  stageHistory { id fromStage toStage changedAt changedById reason }
"""

CORPUS: dict[str, str] = {
    "benchmark page": """{ leads(first: 100) { edges { node {
        id firstName lastName email companyName stage score createdAt
        owner { id displayName }
        activities(first: 5) { edges { node { id type occurredAt } } } } } } }""",
    "every field of a page": f"""{{ leads(first: 10) {{
        edges {{ cursor node {{ {EVERY_LEAD_FIELD} }} }}
        pageInfo {{ hasNextPage endCursor }} totalCount }} }}""",
    "every field of one lead": f"""query ($id: ID!) {{ lead(id: $id) {{ {EVERY_LEAD_FIELD} }} }}""",
    "aliases and fragments": """
        query Mixed($n: Int!) {
          __typename
          newest: leads(first: $n) { ...Page }
          byScore: leads(first: 2, orderBy: {field: SCORE, direction: ASC}) {
            edges { node { mail: email ...Names ... on Lead { id who: firstName } } }
            total: totalCount
          }
        }
        fragment Page on LeadConnection {
          edges { node { ...Names phone contact: email activities(first: 2) {
            edges { node { details } } } } }
          info: pageInfo { endCursor hasNextPage }
        }
        fragment Names on Lead { firstName lastName id }""",
    "filtered": """{ leads(first: 5, filter: {stages: [LEAD, MQL, SQL]}) {
        totalCount edges { node { id stage email notes stageHistory { reason toStage } } } } }""",
    "by email": """query ($email: String!) { lead(email: $email) { id email firstName } }""",
    "nested lists only": """{ leads(first: 4) { edges { node {
        consents { purpose status } consentHistory { note clientNetwork }
        tasks { kind breached } } } } }""",
}


def _variables(name: str, viewer: Viewer, world: World) -> dict[str, Any]:
    if name == "every field of one lead":
        return {"id": world.lookup_id(viewer, world.leads[0])}
    if name == "aliases and fragments":
        return {"n": 3}
    if name == "by email":
        return {"email": "ada@example.com"}
    return {}


def assert_same(compiled: Any, general: Any) -> None:
    assert compiled.body == general.body
    assert compiled.event == general.event


@pytest.mark.parametrize("viewer", VIEWERS, ids=lambda v: v.name)
async def test_every_actor_gets_the_same_answer_from_both_paths(
    pair: Pair, world: World, viewer: Viewer
) -> None:
    headers = world.headers[viewer.name]
    for name, query in CORPUS.items():
        answered = pair.plans.answered
        compiled, general = await pair.ask(headers, query, _variables(name, viewer, world))
        assert compiled.body == general.body, name
        assert compiled.event == general.event, name
        body = compiled.body
        if body.get("data") is not None:
            # a query the role may run was answered by the compiled path itself
            assert pair.plans.answered == answered + 1, name


async def test_the_corpus_shows_every_kind_of_decision(pair: Pair, world: World) -> None:
    """The corpus is worth something only if it meets reveals, masks, denials, erased
    values, pseudonyms and break-glass; check that it does."""
    seen: dict[str, Any] = {}
    for viewer in VIEWERS:
        compiled, _ = await pair.ask(
            world.headers[viewer.name], CORPUS["every field of a page"], {}
        )
        seen[viewer.name] = compiled
    text = repr(seen["sales_manager"].body)
    assert "Ada" in text
    assert "[erased]" in text
    masked = seen["marketer"].body["extensions"]["access"]["masked"]
    assert {m["mask"] for m in masked} >= {"initial", "email"}
    marketer_errors = {e["path"][-1] for e in seen["marketer"].body["errors"]}
    assert {"phone", "notes", "jobTitle"} <= marketer_errors
    analyst = seen["analyst"].body["data"]["leads"]["edges"]
    assert analyst
    assert all(e["node"]["id"].startswith("psn_") for e in analyst)
    assert seen["manager_break_glass"].event["details"]["break_glass"] is True
    rep = seen["sales_rep"].event
    assert rep["denied"] == ["clientNetwork"]  # consent evidence is for data-subject requests
    assert {"email", "notes", "reason"} <= set(rep["fields"])
    # the marketer's email is revealed where the lead consented to email marketing
    consenting = [
        e["node"]
        for e in seen["marketer"].body["data"]["leads"]["edges"]
        if e["node"]["email"] and "*" not in e["node"]["email"]
    ]
    assert consenting, f"no lead consenting to {EMAIL_MARKETING} in the corpus"


async def test_pages_after_a_cursor_agree(pair: Pair, world: World) -> None:
    query = """query ($after: String) { leads(first: 2, after: $after) {
        edges { cursor node { id activities(first: 2) { edges { cursor node { id } }
        pageInfo { endCursor } } } } pageInfo { hasNextPage endCursor } } }"""
    headers = world.headers["sales_manager"]
    after = None
    pages = 0
    while True:
        response = await pair.compiled.post(
            "/graphql", json={"query": query, "variables": {"after": after}}, headers=headers
        )
        raw = response.json()["data"]["leads"]
        compiled, general = await pair.ask(headers, query, {"after": after})
        assert_same(compiled, general)
        pages += 1
        if not raw["pageInfo"]["hasNextPage"]:
            break
        after = raw["pageInfo"]["endCursor"]
        assert pages < 10
    assert pages >= 2


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ leads(first: 0) { edges { node { id } } } }", {}),
        ('{ leads(first: 2, after: "c1.forged") { edges { node { id } } } }', {}),
        (
            "query ($a: String!) { leads(first: 2) { edges { node { activities(after: $a) "
            "{ edges { node { id } } } } } } }",
            {"a": "c1.AAAAAQ"},
        ),
        (
            "{ leads(first: 2) { edges { node { activities(first: 99) "
            "{ edges { node { id } } } } } } }",
            {},
        ),
        ('{ leads(filter: {createdFrom: "2026-01-01T00:00:00"}) { edges { node { id } } } }', {}),
        ("{ lead { id } }", {}),
        ('{ lead(id: "x", email: "a@b.c") { id } }', {}),
        ("query ($n: Int!) { leads(first: $n) { totalCount } }", {"n": "many"}),
    ],
)
async def test_refusals_are_the_same(
    pair: Pair, world: World, query: str, variables: dict[str, Any]
) -> None:
    """Bad arguments, forged cursors and bad variables: the compiled path hands the request
    to the general executor, so the typed error is the one it always gave."""
    compiled, general = await pair.ask(world.headers["sales_manager"], query, variables)
    assert "errors" in compiled.body
    assert_same(compiled, general)


async def test_a_forged_cursor_from_another_reader_is_refused_by_both(
    pair: Pair, world: World
) -> None:
    query = "query ($a: String) { leads(first: 1, after: $a) { pageInfo { endCursor } } }"
    first = await pair.compiled.post(
        "/graphql", json={"query": query}, headers=world.headers["sales_manager"]
    )
    cursor = first.json()["data"]["leads"]["pageInfo"]["endCursor"]
    compiled, general = await pair.ask(world.headers["marketer"], query, {"a": cursor})
    assert compiled.body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert_same(compiled, general)


async def test_what_it_cannot_compile_runs_on_the_general_executor(
    pair: Pair, world: World
) -> None:
    headers = world.headers["sales_manager"]
    for query in (
        "{ leads(first: 2) { edges { node { id possibleDuplicates { id } } } } }",
        "{ me { id } leads(first: 1) { totalCount } }",
        "query ($s: Boolean!) { leads(first: 2) { edges { node { id email @skip(if: $s) } } } }",
    ):
        before = (pair.plans.answered, pair.plans.fell_back)
        compiled, general = await pair.ask(headers, query, {"s": True})
        assert_same(compiled, general)
        assert (pair.plans.answered, pair.plans.fell_back) == before


async def test_a_tampered_ciphertext_fails_the_same_way(pair: Pair, world: World) -> None:
    from leads.models import Lead

    lead = world.leads[0]
    row = await Lead.get(id=lead.id)
    blob = bytearray(row.email)
    blob[-1] ^= 1
    await Lead.filter(id=lead.id).update(email=bytes(blob))
    query = "{ leads(first: 10) { edges { node { id email firstName } } } }"
    compiled, general = await pair.ask(world.headers["sales_manager"], query)
    codes = {e["extensions"]["code"] for e in compiled.body["errors"]}
    assert codes == {"DATA_INTEGRITY"}
    assert_same(compiled, general)
    assert pair.plans.fell_back >= 1


async def test_an_unrecordable_read_is_withheld_by_both(
    pair: Pair, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from schema.access import report

    async def failing(*_: object, **__: object) -> None:
        raise RuntimeError("audit store down")

    monkeypatch.setattr(report, "record", failing)
    compiled, general = await pair.ask(world.headers["sales_manager"], CORPUS["benchmark page"])
    assert compiled.body["data"] is None
    assert compiled.body["errors"][0]["extensions"]["code"] == "AUDIT_UNAVAILABLE"
    assert_same(compiled, general)


async def test_a_role_without_the_operation_is_refused_before_either_path(
    pair: Pair, world: World
) -> None:
    viewer = next(v for v in VIEWERS if v.role is Role.AUDITOR)
    compiled, general = await pair.ask(world.headers[viewer.name], CORPUS["benchmark page"])
    assert_same(compiled, general)


@pytest.mark.parametrize("viewer", VIEWERS, ids=lambda viewer: viewer.name)
async def test_a_denied_root_field_beside_a_lead_page_is_answered_the_same(
    pair: Pair, world: World, viewer: Viewer
) -> None:
    """A query keeps its allowed root fields when another is denied; the page of leads left
    in it is answered alike by both paths, for every actor."""
    query = """{ leads(first: 3) { edges { node { id email stage } } }
                 tasks { __typename } accessPolicy { breakGlassMaxMinutes } }"""
    compiled, general = await pair.ask(world.headers[viewer.name], query)
    assert_same(compiled, general)
    assert set(compiled.body["data"]) == {"leads", "tasks", "accessPolicy"}
