"""The scoring engine against values worked out by hand from the default model: decision
maker +30, ideal company size +20, pricing/feature page +25 (cap 25), trial/demo +40 (cap 40),
no budget / outside territory −30, unsubscribed / hard bounce −20, half-life 30 days, MQL 40,
SQL 70."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leads.scoring.definition import (
    DEFAULT_DEFINITION,
    DefinitionError,
    ScoringDefinition,
    parse_definition,
)
from leads.scoring.engine import Band, LeadFacts, evaluate

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def model() -> ScoringDefinition:
    return parse_definition(DEFAULT_DEFINITION)


def points(result: object) -> dict[str, int]:
    return {c.rule: c.points for c in result.breakdown}  # type: ignore[attr-defined]


def test_fit_rules_add_up(model: ScoringDefinition) -> None:
    facts = LeadFacts(seniority="vp", company_size="51-200", country="DE")
    result = evaluate(model, facts, [], NOW)
    assert (result.fit, result.engagement, result.total) == (50, 0, 50)
    assert points(result) == {"decision_maker_title": 30, "ideal_company_size": 20}
    assert result.band is Band.MQL


def test_unknown_values_match_nothing(model: ScoringDefinition) -> None:
    result = evaluate(model, LeadFacts(seniority="unknown", company_size="unknown"), [], NOW)
    assert result.total == 0
    assert result.breakdown == ()
    assert result.band is Band.NONE


def test_negative_field_rules(model: ScoringDefinition) -> None:
    facts = LeadFacts(seniority="c_level", budget="none", country="BR")
    result = evaluate(model, facts, [], NOW)
    assert points(result) == {
        "decision_maker_title": 30,
        "no_budget": -30,
        "outside_territory": -30,
    }
    assert result.fit == -30
    assert {c.section for c in result.breakdown if c.points < 0} == {"negative"}


def test_engagement_decays_with_half_life(model: ScoringDefinition) -> None:
    facts = LeadFacts(country="DE")
    fresh = evaluate(model, facts, [("demo_request", NOW)], NOW)
    month = evaluate(model, facts, [("demo_request", NOW - 30 * DAY)], NOW)
    two_months = evaluate(model, facts, [("demo_request", NOW - 60 * DAY)], NOW)
    assert (fresh.engagement, month.engagement, two_months.engagement) == (40, 20, 10)


def test_the_same_activity_scores_less_as_the_clock_moves(model: ScoringDefinition) -> None:
    activity = [("pricing_page_view", NOW)]
    assert evaluate(model, LeadFacts(), activity, NOW).engagement == 25
    # 25 × 0.5^(15/30) = 17.68 → 18
    assert evaluate(model, LeadFacts(), activity, NOW + 15 * DAY).engagement == 18
    # 25 × 0.5^3 = 3.125 → 3
    assert evaluate(model, LeadFacts(), activity, NOW + 90 * DAY).engagement == 3


def test_caps_apply_per_rule_after_decay(model: ScoringDefinition) -> None:
    three_now = [("pricing_page_view", NOW)] * 2 + [("feature_page_view", NOW)]
    result = evaluate(model, LeadFacts(), three_now, NOW)
    assert points(result) == {"pricing_or_feature_page": 25}
    assert result.breakdown[0].matches == 3
    # two visits a month ago: 12.5 + 12.5 = 25, at the cap
    old = evaluate(model, LeadFacts(), [("pricing_page_view", NOW - 30 * DAY)] * 2, NOW)
    assert old.engagement == 25
    # one a month ago alone: 12.5 rounds half up to 13
    assert (
        evaluate(model, LeadFacts(), [("pricing_page_view", NOW - 30 * DAY)], NOW).engagement == 13
    )


def test_negative_activity_rules_apply_once_without_decay(model: ScoringDefinition) -> None:
    long_ago = NOW - 400 * DAY
    result = evaluate(
        model,
        LeadFacts(),
        [("unsubscribe", long_ago), ("unsubscribe", NOW), ("email_bounce", long_ago)],
        NOW,
    )
    assert points(result) == {"unsubscribed": -20, "hard_bounce": -20}
    assert result.engagement == -40
    unsubscribed = next(c for c in result.breakdown if c.rule == "unsubscribed")
    assert unsubscribed.matches == 2


def test_breakdown_always_adds_up_to_the_score(model: ScoringDefinition) -> None:
    facts = LeadFacts(seniority="director", company_size="201-1000", budget="none", country="US")
    activities = [
        ("pricing_page_view", NOW - 7 * DAY),
        ("trial_signup", NOW - 45 * DAY),
        ("email_bounce", NOW - DAY),
        ("page_view", NOW),
    ]
    result = evaluate(model, facts, activities, NOW)
    assert sum(c.points for c in result.breakdown) == result.total
    # fit 30 + 20 − 30 = 20; 25·0.5^(7/30)=21.3→21; 40·0.5^1.5=14.1→14; bounce −20
    assert (result.fit, result.engagement) == (20, 15)


@pytest.mark.parametrize(
    ("seniority", "activities", "band"),
    [
        ("unknown", [("pricing_page_view", NOW)], Band.NONE),  # 25
        ("vp", [], Band.NONE),  # 30
        ("vp", [("trial_signup", NOW - 60 * DAY)], Band.MQL),  # 30 + 10 = 40, exactly MQL
        ("vp", [("demo_request", NOW - 30 * DAY), ("pricing_page_view", NOW)], Band.SQL),  # 75
        ("vp", [("demo_request", NOW)], Band.SQL),  # 70, exactly SQL
    ],
)
def test_thresholds_are_inclusive(
    model: ScoringDefinition, seniority: str, activities: list[tuple[str, datetime]], band: Band
) -> None:
    assert evaluate(model, LeadFacts(seniority=seniority), activities, NOW).band is band


def test_future_activity_counts_in_full(model: ScoringDefinition) -> None:
    assert evaluate(model, LeadFacts(), [("demo_request", NOW + DAY)], NOW).engagement == 40


def test_definition_round_trips(model: ScoringDefinition) -> None:
    assert parse_definition(model.to_json()) == model


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"mql_threshold": 80}, "mql_threshold"),
        ({"sql_threshold": 0}, "sql_threshold"),
        ({"half_life_days": 0}, "half_life_days"),
        ({"fit": [{"name": "x", "field": "salary", "in": ["a"], "points": 5}]}, "fit[0].field"),
        ({"fit": [{"name": "x", "field": "seniority", "in": ["king"], "points": 5}]}, "fit[0].in"),
        (
            {"fit": [{"name": "x", "field": "seniority", "in": ["vp"], "points": -5}]},
            "fit[0].points",
        ),
        (
            {"engagement": [{"name": "x", "activities": ["teleport"], "points": 5}]},
            "engagement[0].activities",
        ),
        (
            {"engagement": [{"name": "x", "activities": ["call"], "points": 5, "cap": 0}]},
            "engagement[0].cap",
        ),
        ({"negative": [{"name": "x", "activities": ["call"], "points": 5}]}, "negative[0].points"),
        (
            {
                "fit": [
                    {"name": "same", "field": "seniority", "in": ["vp"], "points": 5},
                    {"name": "same", "field": "seniority", "in": ["director"], "points": 5},
                ]
            },
            "fit[1].name",
        ),
    ],
)
def test_invalid_definitions_name_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(DefinitionError) as raised:
        parse_definition({**DEFAULT_DEFINITION, **change})
    assert raised.value.field == field
