"""Writing audit events. Callers say what happened; the request id is taken from the
request being served.

``details`` holds only non-personal scalars (reason codes, counts, scope names). The
recorder refuses nested values and long text, the usual shapes of free text and records;
what a short string means is the caller's responsibility.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from audit.chain import append
from audit.models import AuditEvent
from core.request_context import current_client_address, current_interface, current_request_id
from crypto.vault import current_vault


class Outcome(enum.StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    DENIED = "denied"


class ActorType(enum.StrEnum):
    USER = "user"
    API_KEY = "api_key"
    ANONYMOUS = "anonymous"
    OPERATOR = "operator"
    """Someone with shell access running the ``leadvault`` command."""


@dataclass(frozen=True, slots=True)
class Actor:
    type: ActorType
    id: str | None = None
    role: str | None = None
    session_id: str | None = None
    mfa_verified_at: datetime | None = None

    @classmethod
    def anonymous(cls) -> Actor:
        return cls(ActorType.ANONYMOUS)

    @classmethod
    def operator(cls) -> Actor:
        return cls(ActorType.OPERATOR)


@dataclass(frozen=True, slots=True)
class Target:
    type: str
    id: str


@dataclass(frozen=True, slots=True)
class Event:
    action: str
    outcome: Outcome
    actor: Actor
    target: Target | None = None
    fields: tuple[str, ...] = ()
    """Fields read in clear, or changed."""
    purpose: str | None = None
    details: dict[str, str | int | bool | None] = field(default_factory=dict)
    subject_ids: tuple[str, ...] = ()
    """Data subjects (lead ids) the event is about; a lead target counts without listing."""
    fields_masked: tuple[str, ...] = ()
    fields_denied: tuple[str, ...] = ()
    client: str | None = None
    """The client address, keyed-hashed (see :func:`client_digest`)."""


CLIENT_KEY_PURPOSE = "audit-client-address"


def client_digest(address: str | None) -> str | None:
    """A client address as the log keeps it: keyed HMAC-SHA256, 32 hex characters. Equal
    addresses give equal digests (so an auditor can see one client's requests together)
    without the log holding the address, which is personal data."""
    if not address:
        return None
    key = current_vault().keyring.derive(CLIENT_KEY_PURPOSE)
    return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()[:32]


class PersonalValueRefused(ValueError):
    """An event's details carried something other than a flat scalar."""


async def record(event: Event, *, now: datetime | None = None) -> AuditEvent:
    """Append ``event`` to the chain. Call it inside the transaction of the change it
    describes: the change and its event commit together."""
    row = _row(event, now or datetime.now(UTC))
    await append([row], row.occurred_at)
    return row


async def record_many(events: list[Event], *, now: datetime | None = None) -> None:
    """Append several events in one turn on the chain (same rules as :func:`record`)."""
    when = now or datetime.now(UTC)
    await append([_row(event, when) for event in events], when)


def _with_interface(details: dict[str, Any]) -> dict[str, Any]:
    """``via``: the client, when it is not the API (the console)."""
    interface = current_interface()
    return details if interface is None else {**details, "via": interface}


def _row(event: Event, when: datetime) -> AuditEvent:
    for name, value in event.details.items():
        if not isinstance(value, str | int | bool | type(None)) or (
            isinstance(value, str) and len(value) > 64
        ):
            raise PersonalValueRefused(f"audit detail {name!r} must be a short scalar")
    mfa_age = (
        int((when - event.actor.mfa_verified_at).total_seconds())
        if event.actor.mfa_verified_at
        else None
    )
    return AuditEvent(
        occurred_at=when,
        action=event.action,
        outcome=event.outcome.value,
        actor_type=event.actor.type.value,
        actor_id=event.actor.id,
        actor_role=event.actor.role,
        session_id=event.actor.session_id,
        request_id=current_request_id(),
        target_type=event.target.type if event.target else None,
        target_id=event.target.id if event.target else None,
        fields_touched=list(event.fields),
        purpose=event.purpose,
        mfa_age_seconds=mfa_age,
        details=dict(sorted(_with_interface(event.details).items())),
        subject_ids=list(_subjects(event)),
        fields_masked=list(event.fields_masked),
        fields_denied=list(event.fields_denied),
        client=event.client or client_digest(current_client_address()),
    )


def _subjects(event: Event) -> tuple[str, ...]:
    if event.subject_ids:
        return event.subject_ids
    if event.target is not None and event.target.type == "lead":
        return (event.target.id,)
    return ()
