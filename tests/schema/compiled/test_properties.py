"""Property: for any selection over the ``Lead`` type, by any actor, the compiled path and
the general executor give the same answer (data, errors with paths, extensions) and record
the same audit event. The selections are generated: fields in any order and combination,
aliases, inline and named fragments, nested objects and lists, paging arguments."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.schema.compiled.conftest import VIEWERS, Pair, World

LEAVES = [
    "__typename",
    "id",
    "firstName",
    "lastName",
    "email",
    "phone",
    "jobTitle",
    "notes",
    "companyName",
    "companyDomain",
    "seniority",
    "country",
    "region",
    "companySize",
    "industry",
    "source",
    "channel",
    "stage",
    "status",
    "stageEnteredAt",
    "createdAt",
    "updatedAt",
    "lastEngagedAt",
    "dealValue",
    "wonAmount",
    "sqlAt",
    "firstTouchAt",
    "assignedAt",
    "assignmentReason",
    "ownerId",
    "teamId",
    "campaignId",
    "score",
    "fitScore",
    "engagementScore",
    "scoredAt",
    "scoreStatus",
    "speedToLeadMinutes",
]
NESTED = {
    "owner": ["id", "displayName", "role", "teamId", "__typename"],
    "team": ["id", "name"],
    "campaign": ["id", "name", "channel", "cost", "currency", "startsOn", "endsOn"],
    "utm": ["source", "medium", "campaign", "term", "content"],
    "bant": ["budget", "authority", "need", "timeline"],
    "stageHistory": ["id", "fromStage", "toStage", "changedAt", "changedById", "reason"],
    "consents": ["purpose", "status", "basis", "noticeVersion", "source", "since", "expiresAt"],
    "consentHistory": [
        "id",
        "purpose",
        "kind",
        "basis",
        "source",
        "occurredAt",
        "clientNetwork",
        "note",
    ],
    "tasks": ["id", "kind", "step", "dueAt", "completedAt", "breached"],
    "scoreBreakdown": ["rule", "section", "points", "matches"],
    "scoreHistory": ["modelVersion", "score", "trigger", "computedAt"],
}
ACTIVITY = ["id", "type", "occurredAt", "campaignId", "details", "__typename"]

names = st.sampled_from([f"a{i}" for i in range(6)])


def _aliased(field: str) -> st.SearchStrategy[str]:
    return st.one_of(st.just(field), names.map(lambda alias: f"{alias}_{field}: {field}"))


def _subset(fields: list[str]) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(fields), min_size=1, max_size=5).map(" ".join)


@st.composite
def _activities(draw: st.DrawFn) -> str:
    first = draw(st.integers(min_value=1, max_value=4))
    node = draw(_subset(ACTIVITY))
    cursor = draw(st.sampled_from(["", "cursor"]))
    info = draw(st.sampled_from(["", "pageInfo { hasNextPage endCursor }"]))
    return f"activities(first: {first}) {{ edges {{ {cursor} node {{ {node} }} }} {info} }}"


@st.composite
def lead_selection(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        kind = draw(st.sampled_from(["leaf", "leaf", "nested", "activities", "fragment"]))
        if kind == "leaf":
            parts.append(draw(st.sampled_from(LEAVES).flatmap(_aliased)))
        elif kind == "nested":
            field = draw(st.sampled_from(sorted(NESTED)))
            parts.append(f"{draw(_aliased(field))} {{ {draw(_subset(NESTED[field]))} }}")
        elif kind == "activities":
            parts.append(draw(_activities()))
        else:
            parts.append(f"... on Lead {{ {draw(st.sampled_from(LEAVES))} }}")
    return " ".join(parts)


@st.composite
def document(draw: st.DrawFn) -> tuple[str, bool]:
    """A query and whether it reads one lead by id (``$id``)."""
    selection = draw(lead_selection())
    spread = draw(st.booleans())
    body = "...L" if spread else selection
    fragment = f" fragment L on Lead {{ {selection} }}" if spread else ""
    if draw(st.booleans()):
        return f"query ($id: ID!) {{ lead(id: $id) {{ {body} }} }}{fragment}", True
    first = draw(st.integers(min_value=1, max_value=6))
    extra = draw(st.sampled_from(["", "totalCount", "pageInfo { endCursor hasNextPage }"]))
    return (
        f"{{ leads(first: {first}) {{ edges {{ cursor node {{ {body} }} }} {extra} }} }}{fragment}",
        False,
    )


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(generated=document(), viewer=st.sampled_from(VIEWERS), which=st.integers(0, 4))
async def test_any_selection_gets_the_same_answer_from_both_paths(
    pair: Pair, world: World, generated: tuple[str, bool], viewer: Any, which: int
) -> None:
    query, by_id = generated
    variables = {"id": world.lookup_id(viewer, world.leads[which])} if by_id else {}
    compiled, general = await pair.ask(world.headers[viewer.name], query, variables)
    assert compiled.body == general.body, query
    assert compiled.event == general.event, query
