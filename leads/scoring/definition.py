"""Scoring models as data: fit, engagement and negative rules, decay and thresholds.

A definition is plain JSON (what staff edit and what a version stores), validated into the
frozen rules below. Rules read only non-personal lead fields and activity types, so the
engine never needs a lead's keys.

Fit and negative field rules match a lead field against a set of values (``not_in`` turns
"outside territory" into a rule). Engagement rules give points per matching activity,
decayed by age with the model's half-life, summed and capped per rule. Negative activity
rules apply once when any matching activity exists, without decay.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from leads.enums import (
    ActivityType,
    Authority,
    Budget,
    CompanySize,
    Need,
    Seniority,
    Timeline,
)

FIELD_VALUES: dict[str, frozenset[str] | None] = {
    "seniority": frozenset(s.value for s in Seniority),
    "company_size": frozenset(s.value for s in CompanySize),
    "budget": frozenset(s.value for s in Budget),
    "authority": frozenset(s.value for s in Authority),
    "need": frozenset(s.value for s in Need),
    "timeline": frozenset(s.value for s in Timeline),
    "industry": None,
    "country": None,
    "region": None,
}
"""Fields a rule may read, with their closed vocabularies (None: free values)."""

MAX_RULES = 50
MAX_POINTS = 1000


class DefinitionError(ValueError):
    """A scoring definition is invalid; ``field`` names the place (``fit[2].values``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class FieldRule:
    name: str
    field: str
    values: frozenset[str]
    points: int
    negate: bool = False

    def matches(self, value: str | None) -> bool:
        if value is None or value == "" or value == "unknown":
            return False
        return (value in self.values) != self.negate


@dataclass(frozen=True, slots=True)
class ActivityRule:
    name: str
    activities: frozenset[str]
    points: int
    cap: int | None = None


@dataclass(frozen=True, slots=True)
class ScoringDefinition:
    fit: tuple[FieldRule, ...]
    engagement: tuple[ActivityRule, ...]
    negative_fields: tuple[FieldRule, ...]
    negative_activities: tuple[ActivityRule, ...]
    half_life_days: float
    mql_threshold: int
    sql_threshold: int

    def to_json(self) -> dict[str, Any]:
        def field_rule(rule: FieldRule) -> dict[str, Any]:
            key = "not_in" if rule.negate else "in"
            return {
                "name": rule.name,
                "field": rule.field,
                key: sorted(rule.values),
                "points": rule.points,
            }

        def activity_rule(rule: ActivityRule) -> dict[str, Any]:
            data: dict[str, Any] = {
                "name": rule.name,
                "activities": sorted(rule.activities),
                "points": rule.points,
            }
            if rule.cap is not None:
                data["cap"] = rule.cap
            return data

        return {
            "fit": [field_rule(r) for r in self.fit],
            "engagement": [activity_rule(r) for r in self.engagement],
            "negative": [field_rule(r) for r in self.negative_fields]
            + [activity_rule(r) for r in self.negative_activities],
            "half_life_days": self.half_life_days,
            "mql_threshold": self.mql_threshold,
            "sql_threshold": self.sql_threshold,
        }


def _points(where: str, value: Any, *, negative: bool) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or abs(value) > MAX_POINTS:
        raise DefinitionError(f"{where}.points", f"must be a whole number up to {MAX_POINTS}")
    if negative and value >= 0:
        raise DefinitionError(f"{where}.points", "negative rules take points below zero")
    if not negative and value <= 0:
        raise DefinitionError(f"{where}.points", "must be above zero")
    return value


def _name(where: str, value: Any, seen: set[str]) -> str:
    if not isinstance(value, str) or not value.isidentifier() or len(value) > 64:
        raise DefinitionError(f"{where}.name", "must be an identifier of at most 64 characters")
    if value in seen:
        raise DefinitionError(f"{where}.name", "rule names must be unique")
    seen.add(value)
    return value


def _field_rule(where: str, raw: dict[str, Any], seen: set[str], negative: bool) -> FieldRule:
    field = raw.get("field")
    if field not in FIELD_VALUES:
        raise DefinitionError(f"{where}.field", f"must be one of {', '.join(FIELD_VALUES)}")
    negate = "not_in" in raw
    values = raw.get("not_in" if negate else "in")
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise DefinitionError(f"{where}.{'not_in' if negate else 'in'}", "needs a list of values")
    allowed = FIELD_VALUES[field]
    cleaned = frozenset(v.strip().upper() if field == "country" else v.strip() for v in values)
    if allowed is not None and not cleaned <= allowed:
        raise DefinitionError(f"{where}.in", f"values must be among {', '.join(sorted(allowed))}")
    return FieldRule(
        name=_name(where, raw.get("name"), seen),
        field=field,
        values=cleaned,
        points=_points(where, raw.get("points"), negative=negative),
        negate=negate,
    )


def _activity_rule(where: str, raw: dict[str, Any], seen: set[str], negative: bool) -> ActivityRule:
    activities = raw.get("activities")
    known = {a.value for a in ActivityType}
    if (
        not isinstance(activities, list)
        or not activities
        or not all(isinstance(a, str) and a in known for a in activities)
    ):
        raise DefinitionError(f"{where}.activities", "needs a list of activity types")
    cap = raw.get("cap")
    if cap is not None and (not isinstance(cap, int) or isinstance(cap, bool) or cap <= 0):
        raise DefinitionError(f"{where}.cap", "must be a whole number above zero")
    return ActivityRule(
        name=_name(where, raw.get("name"), seen),
        activities=frozenset(activities),
        points=_points(where, raw.get("points"), negative=negative),
        cap=cap,
    )


def parse_definition(raw: Any) -> ScoringDefinition:
    """Validate a JSON definition; :class:`DefinitionError` names the first problem."""
    if not isinstance(raw, dict):
        raise DefinitionError("definition", "must be an object")
    seen: set[str] = set()
    sections: dict[str, list[Any]] = {}
    for section in ("fit", "engagement", "negative"):
        rules = raw.get(section, [])
        if not isinstance(rules, list) or len(rules) > MAX_RULES:
            raise DefinitionError(section, f"must be a list of at most {MAX_RULES} rules")
        for i, rule in enumerate(rules):
            if not isinstance(rule, dict):
                raise DefinitionError(f"{section}[{i}]", "must be an object")
        sections[section] = rules
    fit = tuple(
        _field_rule(f"fit[{i}]", r, seen, negative=False) for i, r in enumerate(sections["fit"])
    )
    engagement = tuple(
        _activity_rule(f"engagement[{i}]", r, seen, negative=False)
        for i, r in enumerate(sections["engagement"])
    )
    negative_fields, negative_activities = [], []
    for i, rule in enumerate(sections["negative"]):
        if "field" in rule:
            negative_fields.append(_field_rule(f"negative[{i}]", rule, seen, negative=True))
        else:
            negative_activities.append(_activity_rule(f"negative[{i}]", rule, seen, negative=True))
    half_life = raw.get("half_life_days", 30)
    if (
        not isinstance(half_life, int | float)
        or isinstance(half_life, bool)
        or not (1 <= half_life <= 3650)
    ):
        raise DefinitionError("half_life_days", "must be between 1 and 3650")
    mql, sql = raw.get("mql_threshold"), raw.get("sql_threshold")
    for name, value in (("mql_threshold", mql), ("sql_threshold", sql)):
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 10_000:
            raise DefinitionError(name, "must be a whole number between 1 and 10000")
    assert isinstance(mql, int)
    assert isinstance(sql, int)
    if mql >= sql:
        raise DefinitionError("mql_threshold", "must be below sql_threshold")
    return ScoringDefinition(
        fit=fit,
        engagement=engagement,
        negative_fields=tuple(negative_fields),
        negative_activities=tuple(negative_activities),
        half_life_days=float(half_life),
        mql_threshold=mql,
        sql_threshold=sql,
    )


TERRITORY = [
    "AT", "BE", "CA", "CH", "DE", "DK", "ES", "FI", "FR", "GB",
    "IE", "IT", "NL", "NO", "PL", "PT", "SE", "US",
]  # fmt: skip

DEFAULT_DEFINITION: dict[str, Any] = {
    "fit": [
        {
            "name": "decision_maker_title",
            "field": "seniority",
            "in": ["c_level", "vp", "director"],
            "points": 30,
        },
        {
            "name": "ideal_company_size",
            "field": "company_size",
            "in": ["51-200", "201-1000", "1001-5000"],
            "points": 20,
        },
    ],
    "engagement": [
        {
            "name": "pricing_or_feature_page",
            "activities": ["pricing_page_view", "feature_page_view"],
            "points": 25,
            "cap": 25,
        },
        {
            "name": "trial_or_demo_request",
            "activities": ["trial_signup", "demo_request"],
            "points": 40,
            "cap": 40,
        },
    ],
    "negative": [
        {"name": "no_budget", "field": "budget", "in": ["none"], "points": -30},
        {"name": "outside_territory", "field": "country", "not_in": TERRITORY, "points": -30},
        {"name": "unsubscribed", "activities": ["unsubscribe"], "points": -20},
        {"name": "hard_bounce", "activities": ["email_bounce"], "points": -20},
    ],
    "half_life_days": 30,
    "mql_threshold": 40,
    "sql_threshold": 70,
}
"""The model LeadVault starts with (version 1)."""
