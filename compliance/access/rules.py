"""The vocabulary of the access policy: what a role gets for a field, and on which rows."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from identity.roles import Role


class Access(enum.StrEnum):
    REVEAL = "reveal"
    MASK = "mask"
    DENY = "deny"


class RowScope(enum.StrEnum):
    """Which leads a principal may load at all."""

    OWN = "own"
    """Leads the principal owns."""
    TEAM = "team"
    """Leads of the principal's team (their own included)."""
    ALL = "all"
    PURPOSE = "purpose"
    """Only the subjects of the purpose the request declares (a data-subject request)."""
    WRITTEN = "written"
    """No reads: only the rows its own writes return (an API key's captured lead)."""
    NONE = "none"


class Relation(enum.StrEnum):
    """How a row relates to the principal reading it."""

    OWN = "own"
    TEAM = "team"
    OTHER = "other"


class Actor(enum.StrEnum):
    """The columns of the policy: the seven roles, API keys, and break-glass access."""

    SALES_REP = Role.SALES_REP.value
    SALES_MANAGER = Role.SALES_MANAGER.value
    MARKETER = Role.MARKETER.value
    ANALYST = Role.ANALYST.value
    COMPLIANCE_OFFICER = Role.COMPLIANCE_OFFICER.value
    AUDITOR = Role.AUDITOR.value
    ADMIN = Role.ADMIN.value
    API_KEY = "api_key"
    BREAK_GLASS = "break_glass"

    @classmethod
    def of_role(cls, role: Role | None) -> Actor:
        return cls.API_KEY if role is None else cls(role.value)


@dataclass(frozen=True, slots=True)
class Rule:
    """What one actor gets for one field.

    ``consent``: the field is revealed only when the lead has consented to this purpose;
    otherwise the actor gets ``otherwise`` (a mask, or a denial). ``purpose``: the field is
    revealed only for subjects of a purpose of this kind that the request declares.
    """

    access: Access
    mask: str | None = None
    consent: str | None = None
    otherwise: Access = Access.DENY
    purpose: str | None = None

    def describe(self) -> str:
        if self.consent is not None:
            fallback = f"mask:{self.mask}" if self.otherwise is Access.MASK else "deny"
            return f"reveal with consent to {self.consent}, else {fallback}"
        text = f"mask:{self.mask}" if self.access is Access.MASK else self.access.value
        if self.purpose is not None:
            text += f" for the declared {self.purpose}"
        return text


REVEAL = Rule(Access.REVEAL)
DENY = Rule(Access.DENY)


def mask(strategy: str) -> Rule:
    return Rule(Access.MASK, mask=strategy)


def with_consent(purpose: str, *, otherwise_mask: str | None = None) -> Rule:
    if otherwise_mask is None:
        return Rule(Access.REVEAL, consent=purpose)
    return Rule(Access.REVEAL, mask=otherwise_mask, consent=purpose, otherwise=Access.MASK)


def for_purpose(kind: str) -> Rule:
    return Rule(Access.REVEAL, purpose=kind)


@dataclass(frozen=True, slots=True)
class FieldPolicy:
    """The rules for one GraphQL field; an actor not listed is denied."""

    category: str
    rules: dict[Actor, Rule] = field(default_factory=dict)

    def rule_for(self, actor: Actor) -> Rule:
        return self.rules.get(actor, DENY)
