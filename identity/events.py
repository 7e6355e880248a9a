"""Authentication events, written to the audit trail.

Failed sign-ins for unknown emails are recorded without any trace of the email; for a known
account the target is the account's id. No event holds a password, code, token or address.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from audit.events import Actor, ActorType, Event, Outcome, Target, record
from identity.principal import Principal


class AuthAction(enum.StrEnum):
    LOGIN_SUCCEEDED = "auth.login.succeeded"
    LOGIN_FAILED = "auth.login.failed"
    LOGIN_THROTTLED = "auth.login.throttled"
    MFA_SUCCEEDED = "auth.mfa.succeeded"
    MFA_FAILED = "auth.mfa.failed"
    MFA_REPLAYED = "auth.mfa.replayed"
    MFA_ENROLLED = "auth.mfa.enrolled"
    MFA_RESET = "auth.mfa.reset"
    MFA_STEP_UP = "auth.mfa.step_up"
    RECOVERY_CODE_USED = "auth.recovery_code.used"
    RECOVERY_CODES_REGENERATED = "auth.recovery_codes.regenerated"
    ACCOUNT_LOCKED = "auth.account.locked"
    ACCOUNT_UNLOCKED = "auth.account.unlocked"
    SESSION_REVOKED = "auth.session.revoked"
    PASSWORD_ACCEPTED = "auth.login.password_accepted"  # noqa: S105 (an action name)
    PASSWORD_CHANGED = "auth.password.changed"  # noqa: S105 (an action name)
    ENROLMENT_STARTED = "auth.enrolment.started"
    ENROLMENT_FAILED = "auth.enrolment.failed"
    USER_CREATED = "auth.user.created"
    USER_DISABLED = "auth.user.disabled"
    USER_ENABLED = "auth.user.enabled"
    API_KEY_CREATED = "auth.api_key.created"
    API_KEY_REVOKED = "auth.api_key.revoked"


def actor_of(principal: Principal) -> Actor:
    if principal.is_service:
        return Actor(ActorType.API_KEY, id=str(principal.api_key_id))
    return Actor(
        ActorType.USER,
        id=str(principal.user_id) if principal.user_id else None,
        role=principal.role.value if principal.role else None,
        session_id=principal.session_id,
        mfa_verified_at=principal.mfa_verified_at,
    )


def user_actor(user_id: uuid.UUID, role: str, session_id: uuid.UUID | None = None) -> Actor:
    """A member of staff who has not (yet) passed MFA in this request."""
    return Actor(
        ActorType.USER,
        id=str(user_id),
        role=role,
        session_id=str(session_id) if session_id else None,
    )


async def auth_event(
    action: AuthAction,
    outcome: Outcome,
    actor: Actor,
    *,
    target_user: uuid.UUID | None = None,
    target: Target | None = None,
    now: datetime,
    **details: str | int | bool | None,
) -> None:
    if target is None and target_user is not None:
        target = Target("staff_user", str(target_user))
    await record(Event(action.value, outcome, actor, target, details=details), now=now)
