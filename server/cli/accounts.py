"""The ``leadvault users`` and ``leadvault api-keys`` commands, and the demo's sign-ins.

They act as the operator: whoever runs them on the server already holds the database
credentials, so they need no session, and every change they make is recorded as the
operator's.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from server.settings import Settings

if TYPE_CHECKING:
    from identity.accounts import NewAccount
    from server.demo_accounts import DemoAccount


@asynccontextmanager
async def as_operator(settings: Settings) -> AsyncIterator[None]:
    """Open the database for one command; a refusal ends it with its message and status 2."""
    from core.errors import NotFound, ValidationFailed
    from identity.errors import AuthError
    from server.db import close_db, init_db, open_vault

    await init_db(settings)
    try:
        await open_vault(settings)  # audit checkpoints are signed with a keyring key
        yield
    except ValidationFailed as failure:
        for error in failure.errors:
            print(f"leadvault: {error.message}", file=sys.stderr)
        raise SystemExit(2) from None
    except (NotFound, AuthError) as error:
        print(f"leadvault: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    finally:
        await close_db()


async def users(settings: Settings, args: argparse.Namespace) -> None:
    from core.errors import NotFound
    from identity import accounts
    from identity.admin import OPERATOR
    from identity.models import Team
    from identity.roles import Role

    policy = settings.auth_policy()
    async with as_operator(settings):
        if args.users_command == "list":
            for status in await accounts.list_users(OPERATOR):
                user = status.user
                flags = [
                    "active" if user.is_active else "disabled",
                    "mfa" if user.mfa_enrolled else "no-mfa",
                ] + (["locked"] if status.locked else [])
                print(f"{user.email}\t{user.role.value}\t{','.join(flags)}\t{user.id}")
            return
        if args.users_command == "create":
            team_id = None
            if args.team:
                team = await (
                    Team.get_or_none(id=int(args.team))
                    if args.team.isdigit()
                    else Team.get_or_none(name=args.team)
                )
                if team is None:
                    raise NotFound("team")
                team_id = team.id
            name = args.name or args.email.split("@", 1)[0]
            created = await accounts.create_user(
                OPERATOR, args.email, name, Role(args.role), policy, team_id
            )
            print(f"created {created.user.email} ({created.user.role.value}) {created.user.id}")
            print_enrolment(created)
            return
        user = await accounts.find_user(OPERATOR, args.email)
        if args.users_command == "disable":
            await accounts.set_active(OPERATOR, user.id, False)
            print(f"disabled {user.email}; its sessions have ended")
        elif args.users_command == "enable":
            await accounts.set_active(OPERATOR, user.id, True)
            print(f"enabled {user.email}")
        elif args.users_command == "reset-mfa":
            print_enrolment(await accounts.reset_mfa(OPERATOR, user.id, policy))
        elif args.users_command == "unlock":
            was_locked = await accounts.unlock(OPERATOR, user.id)
            print(f"unlocked {user.email}" if was_locked else f"{user.email} was not locked")


def print_enrolment(result: NewAccount) -> None:
    expires = result.enrolment.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    print(
        f"one-time enrolment code (valid until {expires}; shown only now):\n"
        f"  {result.enrolment.code}\n"
        "give it to its owner: they call beginMfaEnrolment(enrolmentCode, password), scan the "
        "QR code, then confirmMfaEnrolment(code)"
    )


async def api_keys(settings: Settings, args: argparse.Namespace) -> None:
    import uuid

    from core.errors import NotFound
    from identity import key_admin
    from identity.admin import OPERATOR
    from identity.scopes import ApiScope

    async with as_operator(settings):
        if args.api_keys_command == "create":
            scopes = [ApiScope(scope) for scope in args.scope]
            issued = await key_admin.create(OPERATOR, args.name, scopes, settings.auth_policy())
            print(f"created API key {issued.key.prefix} ({', '.join(issued.key.scopes)})")
            print(f"token (shown only now):\n  {issued.token}")
        elif args.api_keys_command == "list":
            for key in await key_admin.list_keys(OPERATOR):
                state = "revoked" if key.revoked_at else "active"
                used = key.last_used_at.isoformat() if key.last_used_at else "never used"
                print(f"{key.prefix}\t{key.name}\t{','.join(key.scopes)}\t{state}\t{used}")
        elif args.api_keys_command == "revoke":
            keys = {row.prefix: row for row in await key_admin.list_keys(OPERATOR)}
            if args.prefix not in keys:
                raise NotFound("api key")
            await key_admin.revoke(OPERATOR, uuid.UUID(str(keys[args.prefix].id)))
            print(f"revoked API key {args.prefix}")


async def demo_accounts(settings: Settings) -> list[DemoAccount]:
    from server import demo_accounts
    from server.db import close_db, init_db, open_vault

    await init_db(settings)
    try:
        await open_vault(settings)
        return await demo_accounts.ensure(settings)
    finally:
        await close_db()


def add_commands(commands: Any) -> None:
    from identity.roles import Role
    from identity.scopes import ApiScope

    users = commands.add_parser("users", help="staff accounts")
    users_commands = users.add_subparsers(dest="users_command", required=True)
    create = users_commands.add_parser(
        "create", help="create an account and print its one-time enrolment code"
    )
    create.add_argument("--email", required=True)
    create.add_argument("--role", required=True, choices=[role.value for role in Role])
    create.add_argument("--team", help="team name or id")
    create.add_argument("--name", help="display name (default: the email's local part)")
    users_commands.add_parser("list", help="every account with its state")
    for name, text in (
        ("disable", "disable an account and end its sessions"),
        ("enable", "enable a disabled account"),
        ("reset-mfa", "remove an account's MFA and print a new enrolment code"),
        ("unlock", "clear an account's failed sign-in counters"),
    ):
        users_commands.add_parser(name, help=text).add_argument("--email", required=True)
    keys = commands.add_parser("api-keys", help="API keys for services")
    keys_commands = keys.add_subparsers(dest="api_keys_command", required=True)
    create_key = keys_commands.add_parser("create", help="create a key and print its token")
    create_key.add_argument("--name", required=True)
    create_key.add_argument(
        "--scope", action="append", required=True, choices=[scope.value for scope in ApiScope]
    )
    keys_commands.add_parser("list", help="every key, revoked ones included")
    keys_commands.add_parser("revoke", help="revoke a key").add_argument(
        "--prefix", required=True, help="the key's public prefix, as `api-keys list` shows it"
    )
