"""The scoring engine: one lead's facts and activities → scores and their explanation.

Pure and deterministic for a given ``now``, so a dry run, the rescoring job and the score
written when an activity arrives all agree. Every contribution is rounded on its own, so
the breakdown always adds up to the score shown.

- fit = fit rules + negative field rules (no budget, outside territory)
- engagement = engagement rules (points per activity × 0.5^(age / half-life), summed and
  capped per rule) + negative activity rules (unsubscribed, hard bounce: once, no decay)
- score = fit + engagement; MQL at ``mql_threshold``, SQL at ``sql_threshold``
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from leads.scoring.definition import ScoringDefinition

SECONDS_PER_DAY = 86_400.0


class Band(enum.StrEnum):
    NONE = "none"
    MQL = "mql"
    SQL = "sql"


@dataclass(frozen=True, slots=True)
class LeadFacts:
    seniority: str | None = None
    company_size: str | None = None
    industry: str | None = None
    country: str | None = None
    region: str | None = None
    budget: str | None = None
    authority: str | None = None
    need: str | None = None
    timeline: str | None = None


@dataclass(frozen=True, slots=True)
class Contribution:
    rule: str
    section: str
    points: int
    matches: int = 1

    def to_json(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "section": self.section,
            "points": self.points,
            "matches": self.matches,
        }


@dataclass(frozen=True, slots=True)
class ScoreResult:
    fit: int
    engagement: int
    breakdown: tuple[Contribution, ...]
    band: Band

    @property
    def total(self) -> int:
        return self.fit + self.engagement


def _round(value: float) -> int:
    return int(value + 0.5) if value >= 0 else -int(-value + 0.5)


def band_of(total: int, definition: ScoringDefinition) -> Band:
    if total >= definition.sql_threshold:
        return Band.SQL
    if total >= definition.mql_threshold:
        return Band.MQL
    return Band.NONE


def evaluate(
    definition: ScoringDefinition,
    facts: LeadFacts,
    activities: Iterable[tuple[str, datetime]],
    now: datetime,
) -> ScoreResult:
    breakdown: list[Contribution] = []
    fit = 0
    for field_rule in (*definition.fit, *definition.negative_fields):
        if field_rule.matches(getattr(facts, field_rule.field)):
            section = "fit" if field_rule.points > 0 else "negative"
            breakdown.append(Contribution(field_rule.name, section, field_rule.points))
            fit += field_rule.points
    weights: dict[str, float] = {}
    counts: dict[str, int] = {}
    half_life = definition.half_life_days * SECONDS_PER_DAY
    for activity_type, occurred_at in activities:
        age = (now - occurred_at).total_seconds()
        weights[activity_type] = weights.get(activity_type, 0.0) + (
            0.5 ** (age / half_life) if age > 0 else 1.0
        )
        counts[activity_type] = counts.get(activity_type, 0) + 1
    engagement = 0
    for rule in definition.engagement:
        matched = sum(counts.get(a, 0) for a in rule.activities)
        if not matched:
            continue
        raw = rule.points * sum(weights.get(a, 0.0) for a in rule.activities)
        points = _round(min(raw, rule.cap) if rule.cap is not None else raw)
        if points:
            breakdown.append(Contribution(rule.name, "engagement", points, matched))
            engagement += points
    for rule in definition.negative_activities:
        matched = sum(counts.get(a, 0) for a in rule.activities)
        if matched:
            breakdown.append(Contribution(rule.name, "negative", rule.points, matched))
            engagement += rule.points
    return ScoreResult(fit, engagement, tuple(breakdown), band_of(fit + engagement, definition))
