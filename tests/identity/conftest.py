"""Fixtures for sign-in tests: a movable clock and accounts in known states."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from identity import clock, passwords, totp
from identity.models import StaffUser
from identity.roles import Role
from identity.second_factor import sealed_totp_secret
from tests.builders import a_staff_user

PASSWORD = "correct horse battery staple"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def code(self, secret: str, steps: int = 0) -> str:
        """The TOTP code for ``secret`` at the current time (plus ``steps`` steps)."""
        return totp.code_for(secret, totp.step_at(self.now) + steps)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(clock, "now", lambda: fake.now)
    return fake


@dataclass
class Account:
    user: StaffUser
    password: str
    secret: str


async def an_enrolled_user(role: Role = Role.SALES_REP, **overrides: object) -> Account:
    """A staff account with a password and a confirmed TOTP seed."""
    user = await a_staff_user(role)
    secret = totp.new_secret()
    user.password_hash = await passwords.hash_password(PASSWORD)
    user.totp_secret = sealed_totp_secret(user.id, secret)
    user.mfa_enrolled_at = datetime.now(UTC) - timedelta(days=1)
    for name, value in overrides.items():
        setattr(user, name, value)
    await user.save()
    return Account(user, PASSWORD, secret)
