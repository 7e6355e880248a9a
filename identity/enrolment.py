"""MFA enrolment: an administrator issues a one-time enrolment code; the member of staff
uses it (with a new password, or their current one after an MFA reset) to get a TOTP seed,
and confirms it with a valid code, which makes their first active session and ten
recovery codes.

An enrolment code is single-use and expires (72 hours by default). Starting an enrolment
discards any earlier TOTP seed and recovery codes and ends the account's sessions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from audit.events import Actor, Outcome
from core.errors import ValidationFailed
from identity import clock, passwords, sessions, throttle, totp
from identity.admin import require_recent_mfa
from identity.authenticate import RequestAuth
from identity.errors import (
    EnrolmentCodeInvalid,
    InvalidCredentials,
    TooManyAttempts,
)
from identity.events import AuthAction, actor_of, auth_event, user_actor
from identity.login import SignedIn
from identity.models import RecoveryCode, SessionStage, StaffUser
from identity.policy import AuthPolicy
from identity.principal import Principal
from identity.second_factor import sealed_totp_secret, totp_secret_of, verify
from identity.tokens import ENROLMENT_PREFIX, digest, new_token


@dataclass(frozen=True, slots=True)
class EnrolmentCode:
    code: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Enrolment:
    token: str
    """A session token that can do nothing but confirm the enrolment."""
    expires_at: datetime
    secret: str
    uri: str
    qr_svg: str


def issue_code(user: StaffUser, policy: AuthPolicy, now: datetime) -> EnrolmentCode:
    """Set a fresh enrolment code on ``user`` (the caller saves the row)."""
    code = new_token(ENROLMENT_PREFIX)
    user.enrolment_code_hash = digest(code)
    user.enrolment_expires_at = now + policy.enrolment_code_lifetime
    return EnrolmentCode(code, user.enrolment_expires_at)


async def begin(code: str, password: str, address: str, policy: AuthPolicy) -> Enrolment:
    now = clock.now()
    address_key = throttle.address_key(address)
    admitted = await throttle.check(address_key, policy.address, now)
    if not admitted.allowed:
        raise TooManyAttempts.refusing(admitted)
    user = None
    if code.startswith(ENROLMENT_PREFIX) and len(code) < 100:
        user = await StaffUser.get_or_none(enrolment_code_hash=digest(code))
    if (
        user is None
        or not user.is_active
        or user.enrolment_expires_at is None
        or now >= user.enrolment_expires_at
    ):
        await auth_event(
            AuthAction.ENROLMENT_FAILED,
            Outcome.FAILURE,
            Actor.anonymous(),
            target_user=user.id if user else None,
            now=now,
            reason="code",
        )
        await throttle.record_failure(address_key, policy.address, now)
        raise EnrolmentCodeInvalid
    new_hash: str | None = None
    if user.password_hash is None:
        problems = passwords.password_problems(
            password, email=user.email, display_name=user.display_name
        )
        if problems:
            raise ValidationFailed(problems)
        new_hash = await passwords.hash_password(password)
    elif not await passwords.verify_password(user.password_hash, password):
        await auth_event(
            AuthAction.ENROLMENT_FAILED,
            Outcome.FAILURE,
            user_actor(user.id, user.role),
            target_user=user.id,
            now=now,
            reason="password",
        )
        await throttle.record_failure(address_key, policy.address, now)
        raise EnrolmentCodeInvalid
    secret = totp.new_secret()
    async with in_transaction("default"):
        consumed = await StaffUser.filter(
            id=user.id, enrolment_code_hash=user.enrolment_code_hash
        ).update(
            enrolment_code_hash=None,
            enrolment_expires_at=None,
            totp_secret=sealed_totp_secret(user.id, secret),
            mfa_enrolled_at=None,
            totp_last_step=None,
            **({"password_hash": new_hash, "password_changed_at": now} if new_hash else {}),
        )
        if consumed != 1:
            raise EnrolmentCodeInvalid
        await RecoveryCode.filter(user_id=user.id).delete()
        await sessions.revoke_all(user.id, "enrolment", now)
        token, session = await sessions.start(
            user, SessionStage.ENROLLING, policy.enrolling_lifetime, now
        )
        await auth_event(
            AuthAction.ENROLMENT_STARTED,
            Outcome.SUCCESS,
            user_actor(user.id, user.role, session.id),
            target_user=user.id,
            now=now,
            password_set=new_hash is not None,
        )
    uri = totp.provisioning_uri(secret, user.email)
    return Enrolment(token, session.expires_at, secret, uri, totp.qr_svg(uri))


async def _store_recovery_codes(user: StaffUser, now: datetime) -> list[str]:
    codes = totp.new_recovery_codes()
    await RecoveryCode.filter(user_id=user.id).delete()
    await RecoveryCode.bulk_create(
        [
            RecoveryCode(user_id=user.id, code_hash=totp.recovery_digest(code), created_at=now)
            for code in codes
        ]
    )
    return codes


async def confirm(auth: RequestAuth, code: str, policy: AuthPolicy) -> SignedIn:
    session = auth.session
    if session is None or session.stage is not SessionStage.ENROLLING:
        raise InvalidCredentials
    now = clock.now()
    user = session.user
    if totp_secret_of(user) is None:
        raise InvalidCredentials
    actor = user_actor(user.id, user.role, session.id)
    await verify(user, code, actor, policy, now, allow_recovery=False)
    async with in_transaction("default"):
        user.mfa_enrolled_at = now
        user.last_login_at = now
        await user.save(update_fields=["mfa_enrolled_at", "last_login_at"])
        codes = await _store_recovery_codes(user, now)
        token = await sessions.activate(session, policy, now)
        await auth_event(
            AuthAction.MFA_ENROLLED, Outcome.SUCCESS, actor, target_user=user.id, now=now
        )
        await auth_event(
            AuthAction.LOGIN_SUCCEEDED, Outcome.SUCCESS, actor, target_user=user.id, now=now
        )
    return SignedIn(token, session, user, tuple(codes))


async def regenerate_recovery_codes(principal: Principal, policy: AuthPolicy) -> list[str]:
    """Ten new codes replacing the old ones; needs MFA within the step-up window."""
    now = clock.now()
    if principal.user_id is None:
        raise InvalidCredentials
    require_recent_mfa(principal, policy.step_up_window, now)
    user = await StaffUser.get(id=principal.user_id)
    async with in_transaction("default"):
        codes = await _store_recovery_codes(user, now)
        await auth_event(
            AuthAction.RECOVERY_CODES_REGENERATED,
            Outcome.SUCCESS,
            actor_of(principal),
            target_user=user.id,
            now=now,
        )
    return codes
