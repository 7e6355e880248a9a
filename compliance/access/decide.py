"""The one place a field decision is made: actor × field × row → reveal, mask or deny."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from compliance.access.consent import consent_lookup
from compliance.access.policy import ROW_SCOPES
from compliance.access.rules import Access, Actor, FieldPolicy, Relation, RowScope, Rule
from identity.principal import Principal


@dataclass(frozen=True, slots=True)
class Subject:
    """The lead a value is about, as far as access is concerned."""

    lead_id: uuid.UUID
    owner_id: uuid.UUID | None
    team_id: int | None


@dataclass(frozen=True, slots=True)
class Decision:
    access: Access
    mask: str | None = None
    break_glass: bool = False
    """Revealed only because of a break-glass grant (a use auditors are shown)."""


DENIED = Decision(Access.DENY)
REVEALED = Decision(Access.REVEAL)


def relation(principal: Principal, subject: Subject) -> Relation:
    if principal.user_id is not None and subject.owner_id == principal.user_id:
        return Relation.OWN
    if principal.team_id is not None and subject.team_id == principal.team_id:
        return Relation.TEAM
    return Relation.OTHER


def in_scope(scope: RowScope, principal: Principal, subject: Subject) -> bool:
    if scope is RowScope.ALL:
        return True
    if scope is RowScope.PURPOSE:
        return subject.lead_id in principal.purpose_subjects
    if scope is RowScope.WRITTEN:
        return principal.is_service
    if scope is RowScope.NONE:
        return False
    reach = relation(principal, subject)
    if scope is RowScope.OWN:
        return reach is Relation.OWN
    return reach is not Relation.OTHER


def awaits_purpose(principal: Principal) -> bool:
    """The principal's rows are those of a declared purpose, and it declared none: every
    list it reads is empty until it does."""
    scope = ROW_SCOPES[Actor.of_role(principal.role)]
    return scope is RowScope.PURPOSE and principal.purpose is None


def _apply(
    rule: Rule, principal: Principal, subject: Subject, consents: frozenset[str]
) -> Decision:
    if rule.purpose is not None and subject.lead_id not in principal.purpose_subjects:
        return DENIED
    if rule.consent is not None and rule.consent not in consents:
        if rule.otherwise is Access.MASK:
            return Decision(Access.MASK, rule.mask)
        return DENIED
    if rule.access is Access.MASK:
        return Decision(Access.MASK, rule.mask)
    return REVEALED if rule.access is Access.REVEAL else DENIED


def decide(
    principal: Principal,
    policy: FieldPolicy,
    subject: Subject,
    consents: frozenset[str] = frozenset(),
) -> Decision:
    """What ``principal`` gets for a field declared by ``policy`` on ``subject``'s row.

    A row outside the actor's row scope is denied even if it was somehow loaded. With an
    active break-glass grant, a read its ordinary rules would not reveal is revealed and
    flagged.
    """
    actor = Actor.of_role(principal.role)
    ordinary = DENIED
    if in_scope(ROW_SCOPES[actor], principal, subject):
        ordinary = _apply(policy.rule_for(actor), principal, subject, consents)
    if ordinary.access is Access.REVEAL or not principal.break_glass_active:
        return ordinary
    elevated = _apply(policy.rule_for(Actor.BREAK_GLASS), principal, subject, consents)
    if elevated.access is Access.REVEAL:
        return Decision(Access.REVEAL, break_glass=True)
    return ordinary


def needs_consent(principal: Principal, policy: FieldPolicy) -> str | None:
    """The consent purpose the decision for this actor depends on, if any."""
    return policy.rule_for(Actor.of_role(principal.role)).consent


class Decisions:
    """:func:`decide` for one principal over many rows, in batch.

    A decision reads only four things about a row: the field's policy, how the row relates
    to the principal (own, team, other), whether the row is a subject of the purpose the
    request declares, and whether it consented to the purpose the actor's rule names. Each
    combination is decided once by :func:`decide` and reused for every row that shares it,
    so a page costs a handful of decisions rather than one per value. Both the per-field
    extension and the compiled read path decide through this (one enforcement point).
    """

    __slots__ = ("_actor", "_memo", "principal")

    def __init__(self, principal: Principal) -> None:
        self.principal = principal
        self._actor = Actor.of_role(principal.role)
        self._memo: dict[tuple[int, Relation, bool, bool], tuple[FieldPolicy, Decision]] = {}

    def purpose_of(self, policy: FieldPolicy) -> str | None:
        """The consent purpose this principal's decisions for the field depend on."""
        return policy.rule_for(self._actor).consent

    def decide_one(
        self, policy: FieldPolicy, subject: Subject, consented: Collection[uuid.UUID]
    ) -> Decision:
        """The decision for ``subject``; ``consented``: leads whose consent allows the
        purpose :func:`needs_consent` names for this actor (others may be listed too)."""
        principal = self.principal
        purpose = policy.rule_for(self._actor).consent
        agreed = purpose is not None and subject.lead_id in consented
        key = (
            id(policy),
            relation(principal, subject),
            subject.lead_id in principal.purpose_subjects,
            agreed,
        )
        found = self._memo.get(key)
        if found is None:
            consents = frozenset({purpose}) if agreed and purpose else frozenset()
            found = (policy, decide(principal, policy, subject, consents))
            self._memo[key] = found
        return found[1]

    def decide_all(
        self, policy: FieldPolicy, subjects: Sequence[Subject], consented: Collection[uuid.UUID]
    ) -> list[Decision]:
        """:meth:`decide_one` for each of ``subjects``."""
        return [self.decide_one(policy, subject, consented) for subject in subjects]


async def decide_now(principal: Principal, policy: FieldPolicy, subject: Subject) -> Decision:
    """:func:`decide` for one row outside a GraphQL request (services use it before they
    say anything about a row, such as which lead a duplicate email belongs to)."""
    purpose = needs_consent(principal, policy)
    consents: frozenset[str] = frozenset()
    if purpose is not None and await consent_lookup().consented([subject.lead_id], purpose):
        consents = frozenset({purpose})
    return decide(principal, policy, subject, consents)
