"""Double opt-in: a grant from a form is confirmed by the person clicking a link sent to
the address they gave, which proves the address is theirs before anything is sent to it.

The token is 256 random bits; only its SHA-256 is stored. It works once, until it expires.
The ledger's grant carries the confirmation's evidence (the click) and names the request
it confirms.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime

from audit.events import Actor
from compliance.consent.config import consent_config
from compliance.consent.evidence import ConsentSource, Evidence, client_network, user_agent_hash
from compliance.consent.ledger import ConsentChange, append
from compliance.consent.models import ConsentConfirmation, ConsentEvent
from compliance.consent.purposes import purposes
from compliance.outbox import enqueue
from crypto.vault import current_vault

TOKEN_PREFIX = "lvd_"  # noqa: S105 - a prefix, not a secret
TEMPLATE = "consent_confirmation"


class ConfirmationInvalid(ValueError):
    """Unknown, used or expired confirmation (one message for all)."""

    def __init__(self) -> None:
        super().__init__("this confirmation link is not valid or has expired")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def request(
    lead_id: uuid.UUID,
    key: bytes,
    change: ConsentChange,
    email: str,
    evidence: Evidence,
    now: datetime,
    actor: Actor,
) -> ConsentConfirmation:
    """Store a pending confirmation and queue the email (inside the caller's transaction)."""
    purpose = purposes().get(change.purpose)
    notice = purpose.notice_version(change.notice_version) if purpose else None
    if purpose is None or notice is None:  # checked with the rest of the submission
        raise ValueError("confirmation for an unchecked purpose")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    config = consent_config()
    confirmation_id = uuid.uuid4()
    sealed = current_vault().seal_values(
        ConsentConfirmation,
        confirmation_id,
        key,
        {"client_network": client_network(evidence.client_address)},
    )
    row = await ConsentConfirmation.create(
        id=confirmation_id,
        token_hash=_digest(token),
        lead_id=lead_id,
        purpose=purpose.name,
        notice_version=notice.version,
        source=evidence.source.value,
        source_ref=evidence.source_ref,
        user_agent_hash=user_agent_hash(evidence.user_agent),
        requested_at=now,
        expires_at=now + config.confirmation_lifetime,
        **sealed,
    )
    body = (
        f"Please confirm that you want: {purpose.description}.\n\n"
        f"{notice.text}\n\nConfirm: {config.link('consent/confirm', token)}\n"
        "If you did not ask for this, ignore this message and nothing will be sent to you."
    )
    await enqueue(lead_id, key, TEMPLATE, email, body, now)
    return row


async def confirm(
    token: str, client_address: str | None, user_agent: str | None, now: datetime | None = None
) -> ConsentEvent:
    """Turn a pending confirmation into a grant (inside the caller's transaction)."""
    when = now or datetime.now(UTC)
    row = (
        await ConsentConfirmation.filter(token_hash=_digest(token), confirmed_at__isnull=True)
        .select_for_update()
        .first()
    )
    if row is None or row.expires_at <= when:
        raise ConfirmationInvalid()
    key = (await current_vault().subject_keys([row.lead_id])).get(row.lead_id)
    if key is None:
        raise ConfirmationInvalid()
    events = await append(
        row.lead_id,
        [ConsentChange(row.purpose, granted=True, notice_version=row.notice_version)],
        Evidence(
            source=ConsentSource.DOUBLE_OPT_IN,
            source_ref=str(row.id),
            client_address=client_address,
            user_agent=user_agent,
        ),
        Actor.anonymous(),
        key=key,
        now=when,
    )
    row.confirmed_at = when
    await row.save(update_fields=["confirmed_at"])
    return events[0]
