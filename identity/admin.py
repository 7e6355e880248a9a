"""Who may administer accounts and keys: an administrator in a session with recent MFA for
the sensitive operations, or the operator at the server's shell (the ``leadvault`` command,
which has the database credentials anyway)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from audit.events import Actor
from identity.errors import Forbidden, StepUpRequired
from identity.events import actor_of
from identity.principal import Principal
from identity.roles import Role


@dataclass(frozen=True, slots=True)
class Operator:
    """The person running the ``leadvault`` command on the server."""


OPERATOR = Operator()
Administrator = Principal | Operator


def authorize(actor: Administrator) -> None:
    if isinstance(actor, Operator):
        return
    if actor.is_service or actor.role is not Role.ADMIN:
        raise Forbidden


def require_recent_mfa(actor: Administrator, window: timedelta, now: datetime) -> None:
    """Step-up: the operation needs a TOTP check within ``window``."""
    if isinstance(actor, Principal) and not actor.mfa_within(window, now):
        raise StepUpRequired(window)


def audit_actor(actor: Administrator) -> Actor:
    return Actor.operator() if isinstance(actor, Operator) else actor_of(actor)
