"""Who may work data-subject requests: compliance officers in a signed-in session, and the
operator at the server's shell. Every change names its actor in the audit trail."""

from __future__ import annotations

import uuid

from audit.events import Actor
from identity.admin import OPERATOR, Operator, audit_actor
from identity.errors import Forbidden
from identity.principal import Principal
from identity.roles import Role

Officer = Principal | Operator

__all__ = ["OPERATOR", "Officer", "actor_of", "authorize", "user_id_of"]


def authorize(officer: Officer) -> None:
    if isinstance(officer, Operator):
        return
    if officer.is_service or officer.role is not Role.COMPLIANCE_OFFICER:
        raise Forbidden


def user_id_of(officer: Officer) -> uuid.UUID | None:
    return None if isinstance(officer, Operator) else officer.user_id


def actor_of(officer: Officer) -> Actor:
    return audit_actor(officer)
