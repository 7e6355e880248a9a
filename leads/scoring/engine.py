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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from leads.scoring.definition import ActivityRule, ScoringDefinition

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


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A definition arranged for scoring many leads: field rules as plain tuples, and for
    each activity type the rules it feeds."""

    fields: tuple[tuple[str, str, frozenset[str], bool, int, str], ...]
    engagement: tuple[ActivityRule, ...]
    negatives: tuple[ActivityRule, ...]
    feeds: dict[str, tuple[int, ...]]
    marks: dict[str, tuple[int, ...]]
    half_life: float


_COMPILED: dict[int, tuple[ScoringDefinition, _Compiled]] = {}


def _compile(definition: ScoringDefinition) -> _Compiled:
    found = _COMPILED.get(id(definition))
    if found is not None and found[0] is definition:
        return found[1]
    feeds: dict[str, list[int]] = {}
    for n, rule in enumerate(definition.engagement):
        for activity in rule.activities:
            feeds.setdefault(activity, []).append(n)
    marks: dict[str, list[int]] = {}
    for n, rule in enumerate(definition.negative_activities):
        for activity in rule.activities:
            marks.setdefault(activity, []).append(n)
    compiled = _Compiled(
        fields=tuple(
            (r.name, r.field, r.values, r.negate, r.points, "fit" if r.points > 0 else "negative")
            for r in (*definition.fit, *definition.negative_fields)
        ),
        engagement=definition.engagement,
        negatives=definition.negative_activities,
        feeds={k: tuple(v) for k, v in feeds.items()},
        marks={k: tuple(v) for k, v in marks.items()},
        half_life=definition.half_life_days * SECONDS_PER_DAY,
    )
    if len(_COMPILED) > 64:
        _COMPILED.clear()
    _COMPILED[id(definition)] = (definition, compiled)
    return compiled


def evaluate(
    definition: ScoringDefinition,
    facts: LeadFacts,
    activities: Iterable[tuple[str, datetime]],
    now: datetime,
) -> ScoreResult:
    """Score one lead from its facts and its (activity type, time) pairs at ``now``."""
    return evaluate_fast(
        definition,
        {name: getattr(facts, name) for name in LeadFacts.__slots__},
        [(kind, at.timestamp()) for kind, at in activities],
        now.timestamp(),
    )


def evaluate_fast(
    definition: ScoringDefinition,
    facts: Mapping[str, str | None],
    activities: Sequence[tuple[str, float]],
    now: float,
) -> ScoreResult:
    """:func:`evaluate` over a mapping of facts and POSIX timestamps (the batch path)."""
    compiled = _compile(definition)
    breakdown: list[Contribution] = []
    fit = 0
    for name, field, values, negate, points, section in compiled.fields:
        value = facts[field]
        if value is None or value == "" or value == "unknown":
            continue
        if (value in values) != negate:
            breakdown.append(Contribution(name, section, points))
            fit += points
    engagement = 0
    if activities:
        weights = [0.0] * len(compiled.engagement)
        counts = [0] * len(compiled.engagement)
        marked = [0] * len(compiled.negatives)
        half_life = compiled.half_life
        feeds, marks = compiled.feeds, compiled.marks
        for kind, at in activities:
            fed = feeds.get(kind)
            if fed:
                age = now - at
                weight = 0.5 ** (age / half_life) if age > 0 else 1.0
                for n in fed:
                    weights[n] += weight
                    counts[n] += 1
            hit = marks.get(kind)
            if hit:
                for n in hit:
                    marked[n] += 1
        for n, rule in enumerate(compiled.engagement):
            if not counts[n]:
                continue
            raw = rule.points * weights[n]
            points = _round(min(raw, rule.cap) if rule.cap is not None else raw)
            if points:
                breakdown.append(Contribution(rule.name, "engagement", points, counts[n]))
                engagement += points
        for n, rule in enumerate(compiled.negatives):
            if marked[n]:
                breakdown.append(Contribution(rule.name, "negative", rule.points, marked[n]))
                engagement += rule.points
    return ScoreResult(fit, engagement, tuple(breakdown), band_of(fit + engagement, definition))
