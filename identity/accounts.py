"""Managing staff accounts: create, list, disable and enable, reset MFA, unlock, end
sessions, and a member of staff changing their own password.

Administrative operations take an :data:`~identity.admin.Administrator`: an admin's
principal (resetting MFA needs recent MFA) or the operator at the shell. Each change and
its audit event are written in one transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from audit.events import Outcome
from core import validation
from core.errors import FieldError, NotFound, ValidationFailed
from identity import clock, passwords, sessions, throttle
from identity.admin import Administrator, audit_actor, authorize, require_recent_mfa
from identity.enrolment import EnrolmentCode, issue_code
from identity.errors import Forbidden, LastAdministrator, TooManyAttempts, WrongPassword
from identity.events import AuthAction, actor_of, auth_event
from identity.login import end_all_sessions
from identity.models import RecoveryCode, StaffUser, Team
from identity.policy import AuthPolicy
from identity.principal import Principal
from identity.roles import Role

_clean_name = validation.text(120, required=True)


@dataclass(frozen=True, slots=True)
class NewAccount:
    user: StaffUser
    enrolment: EnrolmentCode


@dataclass(frozen=True, slots=True)
class AccountStatus:
    user: StaffUser
    locked: bool


async def create_user(
    actor: Administrator,
    email: str,
    display_name: str,
    role: Role,
    policy: AuthPolicy,
    team_id: int | None = None,
) -> NewAccount:
    authorize(actor)
    errors: list[FieldError] = []
    clean_email, problem = validation.email("email", email)
    if problem or not clean_email:
        errors.append(problem or FieldError("email", "required", "email is required"))
    clean_name, problem = _clean_name("display_name", display_name)
    if problem:
        errors.append(problem)
    if errors:
        raise ValidationFailed(errors)
    if await StaffUser.exists(email=clean_email):
        raise ValidationFailed(
            [FieldError("email", "taken", "email is already used by another account")]
        )
    if team_id is not None and not await Team.exists(id=team_id):
        raise NotFound("team")
    now = clock.now()
    user = StaffUser(email=clean_email, display_name=clean_name, role=role, team_id=team_id)
    code = issue_code(user, policy, now)
    async with in_transaction("default"):
        await user.save()
        await auth_event(
            AuthAction.USER_CREATED,
            Outcome.SUCCESS,
            audit_actor(actor),
            target_user=user.id,
            now=now,
            role=role.value,
        )
    return NewAccount(user, code)


async def list_users(actor: Administrator) -> list[AccountStatus]:
    authorize(actor)
    users = await StaffUser.all().order_by("email")
    keys = {throttle.account_key(user.email): user.id for user in users}
    locked = {keys[key] for key in await throttle.locked_keys(list(keys))}
    return [AccountStatus(user, user.id in locked) for user in users]


async def find_user(actor: Administrator, email: str) -> StaffUser:
    authorize(actor)
    user = await StaffUser.get_or_none(email=email.strip().casefold())
    if user is None:
        raise NotFound("staff user")
    return user


async def get_user(actor: Administrator, user_id: uuid.UUID) -> StaffUser:
    authorize(actor)
    return await _user(user_id)


async def _user(user_id: uuid.UUID) -> StaffUser:
    user = await StaffUser.get_or_none(id=user_id)
    if user is None:
        raise NotFound("staff user")
    return user


async def set_active(actor: Administrator, user_id: uuid.UUID, active: bool) -> StaffUser:
    """Disable (ending every session) or re-enable an account."""
    authorize(actor)
    user = await _user(user_id)
    if user.is_active == active:
        return user
    if not active:
        if isinstance(actor, Principal) and actor.user_id == user.id:
            raise Forbidden("you cannot disable your own account")
        if (
            user.role is Role.ADMIN
            and await StaffUser.filter(role=Role.ADMIN, is_active=True).count() <= 1
        ):
            raise LastAdministrator
    now = clock.now()
    async with in_transaction("default"):
        user.is_active = active
        await user.save(update_fields=["is_active"])
        ended = 0 if active else await sessions.revoke_all(user.id, "disabled", now)
        action = AuthAction.USER_ENABLED if active else AuthAction.USER_DISABLED
        await auth_event(
            action,
            Outcome.SUCCESS,
            audit_actor(actor),
            target_user=user.id,
            now=now,
            sessions_ended=ended,
        )
    return user


async def reset_mfa(actor: Administrator, user_id: uuid.UUID, policy: AuthPolicy) -> NewAccount:
    """Remove an account's TOTP seed and recovery codes, end its sessions, and issue an
    enrolment code so its owner can enrol again (with their current password)."""
    authorize(actor)
    now = clock.now()
    require_recent_mfa(actor, policy.step_up_window, now)
    user = await _user(user_id)
    code = issue_code(user, policy, now)
    user.totp_secret = None
    user.mfa_enrolled_at = None
    user.totp_last_step = None
    async with in_transaction("default"):
        await user.save(
            update_fields=[
                "totp_secret",
                "mfa_enrolled_at",
                "totp_last_step",
                "enrolment_code_hash",
                "enrolment_expires_at",
            ]
        )
        await RecoveryCode.filter(user_id=user.id).delete()
        ended = await sessions.revoke_all(user.id, "mfa_reset", now)
        await auth_event(
            AuthAction.MFA_RESET,
            Outcome.SUCCESS,
            audit_actor(actor),
            target_user=user.id,
            now=now,
            sessions_ended=ended,
        )
    return NewAccount(user, code)


async def unlock(actor: Administrator, user_id: uuid.UUID) -> bool:
    """Clear an account's sign-in and TOTP failure counters. Returns whether it was locked."""
    authorize(actor)
    user = await _user(user_id)
    now = clock.now()
    async with in_transaction("default"):
        was_locked = await throttle.unlock(throttle.account_key(user.email))
        await throttle.unlock(throttle.totp_key(user.id))
        await auth_event(
            AuthAction.ACCOUNT_UNLOCKED,
            Outcome.SUCCESS,
            audit_actor(actor),
            target_user=user.id,
            now=now,
            was_locked=was_locked,
        )
    return was_locked


async def end_sessions(actor: Administrator, user_id: uuid.UUID) -> int:
    authorize(actor)
    user = await _user(user_id)
    return await end_all_sessions(user.id, audit_actor(actor), "revoked_by_admin")


async def change_password(
    principal: Principal, current: str, new: str, policy: AuthPolicy
) -> datetime:
    """Change the caller's password; every other session of theirs ends."""
    if principal.user_id is None or principal.session_id is None:
        raise Forbidden("only a signed-in member of staff has a password")
    now = clock.now()
    user = await _user(principal.user_id)
    claim = await throttle.claim(throttle.account_key(user.email), policy.account, now)
    if not claim.allowed:
        raise TooManyAttempts.refusing(claim)
    if not await passwords.verify_password(user.password_hash, current):
        await auth_event(
            AuthAction.PASSWORD_CHANGED,
            Outcome.FAILURE,
            actor_of(principal),
            target_user=user.id,
            now=now,
            reason="wrong_password",
        )
        raise WrongPassword
    await throttle.release(claim.key, reset=True)
    problems = passwords.password_problems(
        new, email=user.email, display_name=user.display_name, field="new_password"
    )
    if current == new:
        problems.append(
            FieldError("new_password", "unchanged", "new_password must differ from the current one")
        )
    if problems:
        raise ValidationFailed(problems)
    user.password_hash = await passwords.hash_password(new)
    user.password_changed_at = now
    async with in_transaction("default"):
        await user.save(update_fields=["password_hash", "password_changed_at"])
        ended = await sessions.revoke_all(
            user.id, "password_changed", now, keep=uuid.UUID(principal.session_id)
        )
        await auth_event(
            AuthAction.PASSWORD_CHANGED,
            Outcome.SUCCESS,
            actor_of(principal),
            target_user=user.id,
            now=now,
            sessions_ended=ended,
        )
    return now
