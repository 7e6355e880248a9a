from __future__ import annotations

from datetime import date

import httpx
import pytest

from identity.models import StaffUser
from identity.roles import Role
from leads.demo import DemoSeeder
from server import demo_accounts
from server.settings import Environment
from tests.conftest import make_settings
from tests.identity.conftest import Account, Clock
from tests.identity.test_sign_in import sign_in


async def test_the_demo_enrols_one_account_per_role_that_can_sign_in(
    anonymous_client: httpx.AsyncClient, frozen: Clock
) -> None:
    await DemoSeeder(7, date(2026, 6, 1)).seed(0)

    accounts = await demo_accounts.ensure(make_settings())
    again = await demo_accounts.ensure(make_settings())

    assert [a.role for a in accounts] == list(Role)
    assert again == accounts
    user = await StaffUser.get(email=accounts[0].email)
    assert await sign_in(
        anonymous_client, Account(user, accounts[0].password, accounts[0].totp_secret), frozen
    )


async def test_demo_accounts_are_refused_outside_development() -> None:
    with pytest.raises(RuntimeError):
        await demo_accounts.ensure(make_settings(Environment.PROD))
