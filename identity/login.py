"""Signing in: password, then TOTP (or a recovery code), then an active session.

``login`` never says whether an account exists: an unknown email, a disabled account and
an account without a password all verify the password against a dummy hash and fail with
the same error as a wrong password, and their failures are counted under the same
digest-of-the-email key a real account uses.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from audit.events import Actor, Outcome
from identity import clock, passwords, sessions, throttle
from identity.authenticate import RequestAuth
from identity.errors import (
    EnrolmentRequired,
    Forbidden,
    InvalidCredentials,
    SignInFailed,
    TooManyAttempts,
)
from identity.events import AuthAction, actor_of, auth_event, user_actor
from identity.models import SessionStage, StaffSession, StaffUser
from identity.policy import AuthPolicy
from identity.principal import Principal
from identity.second_factor import verify


@dataclass(frozen=True, slots=True)
class MfaChallenge:
    token: str
    """A session token that can do nothing but finish MFA."""
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class SignedIn:
    token: str
    session: StaffSession
    user: StaffUser
    recovery_codes: tuple[str, ...] = ()
    """Set only when enrolment has just created them: shown once."""


async def _admit(claim: throttle.Claim, now: datetime) -> throttle.Claim:
    if not claim.allowed:
        await auth_event(
            AuthAction.LOGIN_THROTTLED,
            Outcome.DENIED,
            Actor.anonymous(),
            now=now,
            counter=claim.key.split(":", 1)[0],
            locked=claim.locked,
        )
        raise TooManyAttempts.refusing(claim)
    return claim


def _failure_reason(user: StaffUser | None) -> str:
    if user is None:
        return "unknown_account"
    if not user.is_active:
        return "disabled"
    if user.password_hash is None:
        return "no_password"
    return "wrong_password"


async def login(email: str, password: str, address: str, policy: AuthPolicy) -> MfaChallenge:
    now = clock.now()
    normalized = email.strip().casefold()
    address_key = throttle.address_key(address)
    await _admit(await throttle.check(address_key, policy.address, now), now)
    account_claim = await _admit(
        await throttle.claim(throttle.account_key(normalized), policy.account, now), now
    )
    user = await StaffUser.get_or_none(email=normalized) if len(normalized) <= 254 else None
    usable = user is not None and user.is_active and user.password_hash is not None
    stored = user.password_hash if usable and user is not None else None
    matched = await passwords.verify_password(stored, password)
    if not matched or user is None:
        actor = user_actor(user.id, user.role) if user else Actor.anonymous()
        await auth_event(
            AuthAction.LOGIN_FAILED,
            Outcome.FAILURE,
            actor,
            target_user=user.id if user else None,
            now=now,
            reason=_failure_reason(user),
        )
        if account_claim.locks_on_failure:
            await auth_event(
                AuthAction.ACCOUNT_LOCKED,
                Outcome.SUCCESS,
                Actor.anonymous(),
                target_user=user.id if user else None,
                now=now,
                failures=account_claim.failures,
            )
        await throttle.record_failure(address_key, policy.address, now)
        raise SignInFailed
    await throttle.release(account_claim.key, reset=True)
    if passwords.needs_rehash(user.password_hash or ""):
        user.password_hash = await passwords.hash_password(password)
        await user.save(update_fields=["password_hash"])
    actor = user_actor(user.id, user.role)
    if not user.mfa_enrolled:
        await auth_event(
            AuthAction.LOGIN_FAILED,
            Outcome.DENIED,
            actor,
            target_user=user.id,
            now=now,
            reason="mfa_not_enrolled",
        )
        raise EnrolmentRequired
    async with in_transaction("default"):
        token, session = await sessions.start(
            user, SessionStage.MFA_PENDING, policy.mfa_challenge_lifetime, now
        )
        await auth_event(
            AuthAction.PASSWORD_ACCEPTED,
            Outcome.SUCCESS,
            user_actor(user.id, user.role, session.id),
            target_user=user.id,
            now=now,
        )
    return MfaChallenge(token, session.expires_at)


async def verify_mfa(auth: RequestAuth, code: str, policy: AuthPolicy) -> SignedIn:
    """Finish signing in with the session ``login`` returned."""
    session = auth.session
    if session is None or session.stage is not SessionStage.MFA_PENDING:
        raise InvalidCredentials
    now = clock.now()
    user = session.user
    actor = user_actor(user.id, user.role, session.id)
    method = await verify(user, code, actor, policy, now)
    async with in_transaction("default"):
        token = await sessions.activate(session, policy, now)
        user.last_login_at = now
        await user.save(update_fields=["last_login_at"])
        await auth_event(
            AuthAction.MFA_SUCCEEDED,
            Outcome.SUCCESS,
            actor,
            target_user=user.id,
            now=now,
            method=method.value,
        )
        await auth_event(
            AuthAction.LOGIN_SUCCEEDED, Outcome.SUCCESS, actor, target_user=user.id, now=now
        )
    return SignedIn(token, session, user)


async def step_up(principal: Principal, code: str, policy: AuthPolicy) -> datetime:
    """Re-check TOTP in an active session, for operations that need recent MFA."""
    if principal.is_service or principal.user_id is None or principal.session_id is None:
        raise Forbidden("only a signed-in member of staff can confirm with MFA")
    now = clock.now()
    user = await StaffUser.get(id=principal.user_id)
    actor = actor_of(principal)
    method = await verify(user, code, actor, policy, now)
    async with in_transaction("default"):
        await sessions.confirm_mfa(uuid.UUID(principal.session_id), now)
        await auth_event(
            AuthAction.MFA_STEP_UP,
            Outcome.SUCCESS,
            actor,
            target_user=user.id,
            now=now,
            method=method.value,
        )
    return now


async def logout(auth: RequestAuth) -> bool:
    if auth.session is None:
        return False
    now = clock.now()
    session, user = auth.session, auth.session.user
    async with in_transaction("default"):
        revoked = await sessions.revoke(session.id, "logout", now)
        if revoked:
            await auth_event(
                AuthAction.SESSION_REVOKED,
                Outcome.SUCCESS,
                user_actor(user.id, user.role, session.id),
                target_user=user.id,
                now=now,
                reason="logout",
            )
    return revoked


async def end_all_sessions(user_id: uuid.UUID, actor: Actor, reason: str) -> int:
    """End every session of ``user_id`` and record who did it and why."""
    now = clock.now()
    async with in_transaction("default"):
        count = await sessions.revoke_all(user_id, reason, now)
        await auth_event(
            AuthAction.SESSION_REVOKED,
            Outcome.SUCCESS,
            actor,
            target_user=user_id,
            now=now,
            reason=reason,
            count=count,
        )
    return count


async def revoke_my_sessions(principal: Principal) -> int:
    """End every session of the caller, this one included."""
    if principal.user_id is None:
        raise Forbidden("only a signed-in member of staff has sessions")
    return await end_all_sessions(principal.user_id, actor_of(principal), "revoke_all")
