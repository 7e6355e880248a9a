"""Demo sign-ins: one enrolled account per role, for ``leadvault demo`` only.

The passwords are derived from the account's email so that every start of the demo can
print them again; the TOTP seeds are random and read back through the vault. Nothing here
runs outside development mode: the command refuses first, and :func:`ensure` checks again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from identity import clock, passwords, totp
from identity.models import StaffUser
from identity.roles import Role
from identity.second_factor import sealed_totp_secret, totp_secret_of
from server.settings import Settings


@dataclass(frozen=True, slots=True)
class DemoAccount:
    role: Role
    email: str
    password: str
    totp_secret: str


def demo_password(email: str) -> str:
    return "demo-" + hashlib.sha256(f"leadvault demo sign-in {email}".encode()).hexdigest()[:20]


async def ensure(settings: Settings) -> list[DemoAccount]:
    """Enrol the first seeded account of each role (by email) and return their sign-ins."""
    if not settings.is_dev:
        raise RuntimeError("demo accounts exist only in development mode")
    accounts = []
    now = clock.now()
    for role in Role:
        user = await StaffUser.filter(role=role, is_active=True).order_by("email").first()
        if user is None:
            continue
        password = demo_password(user.email)
        if user.password_hash is None or not user.mfa_enrolled:
            user.password_hash = await passwords.hash_password(password)
            user.password_changed_at = now
            user.totp_secret = sealed_totp_secret(user.id, totp.new_secret())
            user.mfa_enrolled_at = now
            user.totp_last_step = None
            await user.save()
        secret = totp_secret_of(user)
        assert secret is not None
        accounts.append(DemoAccount(role, user.email, password, secret))
    return accounts


@dataclass(frozen=True, slots=True)
class DemoSignIn:
    """What ``leadvault dev token`` needs to sign a demo account in through the API: the
    account, and the last TOTP step it used (a code works once)."""

    account: DemoAccount
    last_step: int | None


async def sign_in_for(settings: Settings, role: Role) -> DemoSignIn | None:
    """The demo account of ``role`` as the demo enrolled it, changing nothing; ``None`` if
    the demo has not enrolled one (its password is not the demo's)."""
    if not settings.is_dev:
        raise RuntimeError("demo accounts exist only in development mode")
    user = await StaffUser.filter(role=role, is_active=True).order_by("email").first()
    if user is None or user.password_hash is None or not user.mfa_enrolled:
        return None
    password = demo_password(user.email)
    if not await passwords.verify_password(user.password_hash, password):
        return None
    secret = totp_secret_of(user)
    if secret is None:
        return None
    return DemoSignIn(DemoAccount(role, user.email, password, secret), user.totp_last_step)
