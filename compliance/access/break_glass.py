"""Break-glass: time-boxed elevated read access for emergencies.

An admin or a sales manager asks for it with a written reason and a fresh TOTP code (not a
recovery code, and not the sign-in's MFA: the code proves the person is at the keyboard
now). The grant lasts at most an hour and ends on its own; it can be ended early. While it
lasts the holder reads every lead in full but writes nothing more than before; every
request that reveals something only the grant allows leaves one audit event per lead it
revealed, flagged ``access.break_glass.used``, and counts on the grant.

What is kept: who, their role, when, for how long, the reason (sealed under the master-
derived secrets key, since staff may name a customer in it), when it ended, how often it
was used. Nothing here holds a lead's personal value.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from audit.events import Event, Outcome, Target, record, record_many
from compliance.access.policy import BREAK_GLASS_MAX_MINUTES, BREAK_GLASS_ROLES
from compliance.models import BreakGlassGrant
from core.errors import FieldError, ValidationFailed
from core.validation import text
from crypto.vault import current_vault, location_of, open_secret, seal_secret
from identity import clock
from identity.errors import AuthError, Forbidden
from identity.events import actor_of
from identity.models import StaffUser
from identity.policy import AuthPolicy
from identity.principal import Principal
from identity.second_factor import verify

MIN_REASON_LENGTH = 20
MAX_REASON_LENGTH = 1000


class BreakGlassActive(AuthError):
    """The user already holds an active grant; end it first."""

    def __init__(self, grant: BreakGlassGrant) -> None:
        super().__init__("you already hold an active break-glass grant; end it first")
        self.grant = grant


@dataclass(frozen=True, slots=True)
class GrantView:
    """A grant as auditors and the holder see it."""

    id: uuid.UUID
    user_id: uuid.UUID
    role: str
    reason: str
    granted_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    use_count: int
    last_used_at: datetime | None

    def active_at(self, now: datetime) -> bool:
        return self.ended_at is None and self.expires_at > now


def view(grant: BreakGlassGrant) -> GrantView:
    reason = open_secret(
        current_vault(), location_of(BreakGlassGrant, "reason", grant.id), grant.reason
    )
    return GrantView(
        id=grant.id,
        user_id=grant.user_id,
        role=grant.role,
        reason=reason,
        granted_at=grant.granted_at,
        expires_at=grant.expires_at,
        ended_at=grant.ended_at,
        use_count=grant.use_count,
        last_used_at=grant.last_used_at,
    )


def _clean(reason: str, minutes: int) -> str:
    errors: list[FieldError] = []
    cleaned, error = text(MAX_REASON_LENGTH, multiline=True)("reason", reason)
    if error is not None:
        errors.append(error)
    elif cleaned is None or len(cleaned) < MIN_REASON_LENGTH:
        errors.append(
            FieldError(
                "reason",
                "too_short",
                f"reason must say why, in at least {MIN_REASON_LENGTH} characters",
            )
        )
    if not 1 <= minutes <= BREAK_GLASS_MAX_MINUTES:
        errors.append(
            FieldError(
                "minutes",
                "out_of_range",
                f"minutes must be between 1 and {BREAK_GLASS_MAX_MINUTES}",
            )
        )
    if errors:
        raise ValidationFailed(errors)
    return cleaned or ""


async def active_grant(user_id: uuid.UUID, now: datetime) -> BreakGlassGrant | None:
    return (
        await BreakGlassGrant.filter(user_id=user_id, ended_at__isnull=True, expires_at__gt=now)
        .order_by("-granted_at")
        .first()
    )


async def store_grant(user: StaffUser, reason: str, minutes: int, now: datetime) -> BreakGlassGrant:
    """Write a grant (its reason sealed); the caller has checked who asks and the code."""
    grant_id = uuid.uuid4()
    sealed = seal_secret(current_vault(), location_of(BreakGlassGrant, "reason", grant_id), reason)
    return await BreakGlassGrant.create(
        id=grant_id,
        user_id=user.id,
        role=user.role.value,
        reason=sealed,
        granted_at=now,
        expires_at=now + timedelta(minutes=minutes),
    )


async def request(
    principal: Principal, reason: str, minutes: int, code: str, policy: AuthPolicy
) -> GrantView:
    """Grant ``principal`` elevated reads for ``minutes`` after checking a fresh TOTP code;
    raises ValidationFailed, Forbidden, BreakGlassActive, CodeRejected or
    TooManyAttempts, and records the grant (or the refused code) in the audit trail."""
    if principal.role not in BREAK_GLASS_ROLES or principal.user_id is None:
        raise Forbidden("only an admin or a sales manager may request break-glass access")
    cleaned = _clean(reason, minutes)
    now = clock.now()
    if (existing := await active_grant(principal.user_id, now)) is not None:
        raise BreakGlassActive(existing)
    user = await StaffUser.get(id=principal.user_id)
    actor = actor_of(principal)
    await verify(user, code, actor, policy, now, allow_recovery=False)
    async with in_transaction("default"):
        grant = await store_grant(user, cleaned, minutes, now)
        await record(
            Event(
                action="access.break_glass.granted",
                outcome=Outcome.SUCCESS,
                actor=actor,
                target=Target("break_glass_grant", str(grant.id)),
                details={"minutes": minutes},
            ),
            now=now,
        )
    return view(grant)


async def end(principal: Principal) -> GrantView | None:
    """End the principal's active grant early; None if there is none."""
    if principal.user_id is None:
        return None
    now = clock.now()
    async with in_transaction("default"):
        grant = await active_grant(principal.user_id, now)
        if grant is None:
            return None
        grant.ended_at = now
        await grant.save(update_fields=["ended_at"])
        await record(
            Event(
                action="access.break_glass.ended",
                outcome=Outcome.SUCCESS,
                actor=actor_of(principal),
                target=Target("break_glass_grant", str(grant.id)),
            ),
            now=now,
        )
    return view(grant)


async def record_uses(principal: Principal, revealed: Mapping[uuid.UUID, Collection[str]]) -> None:
    """One ``access.break_glass.used`` event per lead the grant alone revealed, listing the
    fields, and the grant's use count moved on, in one transaction."""
    grant_id = principal.break_glass_grant_id
    if grant_id is None or not revealed:
        return
    now = clock.now()
    actor = actor_of(principal)
    events = [
        Event(
            action="access.break_glass.used",
            outcome=Outcome.SUCCESS,
            actor=actor,
            target=Target("lead", str(lead_id)),
            fields=tuple(sorted(fields)),
            purpose=principal.purpose,
            details={"break_glass_grant": str(grant_id)},
        )
        for lead_id, fields in sorted(revealed.items(), key=lambda item: str(item[0]))
    ]
    async with in_transaction("default"):
        await record_many(events, now=now)
        await BreakGlassGrant.filter(id=grant_id).update(
            use_count=F("use_count") + 1, last_used_at=now
        )


async def list_grants(*, active_only: bool, limit: int = 100) -> list[GrantView]:
    now = clock.now()
    query = BreakGlassGrant.all()
    if active_only:
        query = query.filter(ended_at__isnull=True, expires_at__gt=now)
    return [view(g) for g in await query.order_by("-granted_at").limit(limit)]
