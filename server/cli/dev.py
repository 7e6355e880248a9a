"""``leadvault dev token ROLE``: sign a demo account in through the running API and print a
bearer token, for curl and GraphiQL; ``leadvault dev code ROLE``: print a TOTP code that
account can use now, for signing in to the console. Development mode only.

It signs in the way any client does (``login``, then ``verifyMfa`` with the current code,
both over HTTP), so every sign-in is audited and rate-limited as usual. A TOTP code works
once: when this window's code was already used, it says so and waits for the next code
rather than sending a code it knows would be refused."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import urllib.error
import urllib.request
from typing import Any

from server.cli.common import settings
from server.settings import Settings

LOGIN = """mutation DevLogin($email: String!, $password: String!) {
  login(email: $email, password: $password) {
    __typename
    ... on MfaChallenge { challengeToken }
    ... on SignInFailed { message }
    ... on TooManyAttempts { message }
    ... on EnrolmentRequired { message }
  }
}"""

VERIFY = """mutation DevVerify($code: String!) {
  verifyMfa(code: $code) {
    __typename
    ... on SignedIn { token }
    ... on CodeRejected { message }
    ... on TooManyAttempts { message }
  }
}"""

REPLAY_HINT = "a TOTP code works once: when this 30-second window's code was already used, "
"wait for the next code"


class Failed(Exception):
    """The command cannot go on; the message says why (never a secret)."""


def add_commands(commands: Any) -> None:
    from identity.roles import Role

    dev = commands.add_parser("dev", help="development helpers (LEADVAULT_ENV=dev only)")
    dev_commands = dev.add_subparsers(dest="dev_command", required=True)
    token = dev_commands.add_parser(
        "token",
        help="sign a demo account in through the running API and print its bearer token",
    )
    token.add_argument("role", choices=[role.value for role in Role], type=str.lower)
    one_time = dev_commands.add_parser(
        "code",
        help="print a TOTP code the demo account of ROLE can use now (for the console)",
    )
    one_time.add_argument("role", choices=[role.value for role in Role], type=str.lower)
    token.add_argument("--port", type=int, help="the demo's port (default: LEADVAULT_PORT)")
    token.add_argument(
        "--url",
        help="the API to sign in to (default: http://LEADVAULT_HOST:LEADVAULT_PORT/graphql)",
    )


def main(args: argparse.Namespace) -> None:
    chosen = settings()
    if args.dev_command == "code" and chosen.is_dev:
        try:
            print(code(chosen, args.role))
        except Failed as failure:
            print(f"leadvault: {failure}", file=sys.stderr)
            raise SystemExit(1) from None
        return
    if not chosen.is_dev:
        print(
            "leadvault: dev commands run only with LEADVAULT_ENV=dev "
            "(python3 dev.py token ROLE sets it)",
            file=sys.stderr,
        )
        raise SystemExit(2)
    url = args.url or f"http://{chosen.host}:{args.port or chosen.port}/graphql"
    try:
        print(token(chosen, args.role, url))
    except Failed as failure:
        print(f"leadvault: {failure}", file=sys.stderr)
        raise SystemExit(1) from None


def code(chosen: Settings, role: str) -> str:
    """A TOTP code the demo account of ``role`` can use right now, to type into the console:
    this window's, or (when that one was used) the next window's, which the server already
    accepts as clock drift. It never prints a code the account has used."""
    from identity import clock, totp
    from identity.roles import Role

    sign_in = asyncio.run(_demo_sign_in(chosen, Role(role)))
    if sign_in is None:
        raise Failed(f"no demo {role} account here; start the demo first (python3 dev.py demo)")
    step = totp.step_at(clock.now())
    if sign_in.last_step is not None and step <= sign_in.last_step:
        step = sign_in.last_step + 1
    for _ in range(totp.STEP_SECONDS + 1):  # at most one window
        if step <= totp.step_at(clock.now()) + totp.DRIFT_STEPS:
            break
        time.sleep(1)
    return totp.code_for(sign_in.account.totp_secret, step)


def token(chosen: Settings, role: str, url: str) -> str:
    from identity import clock, totp
    from identity.roles import Role

    sign_in = asyncio.run(_demo_sign_in(chosen, Role(role)))
    if sign_in is None:
        raise Failed(f"no demo {role} account here; start the demo first (python3 dev.py demo)")
    account = sign_in.account
    step = totp.step_at(clock.now())
    if sign_in.last_step is not None and step <= sign_in.last_step:
        wait = totp.STEP_SECONDS - int(clock.now().timestamp()) % totp.STEP_SECONDS
        print(
            "leadvault: this 30-second window's code was already used (a TOTP code works "
            f"once); waiting {wait} s for the next code …",
            file=sys.stderr,
        )
        time.sleep(wait)  # one TOTP window at most
        step = sign_in.last_step + 1
    login = _call(url, LOGIN, {"email": account.email, "password": account.password})["login"]
    if login["__typename"] != "MfaChallenge":
        raise Failed(_answer("login", login))
    code = totp.code_for(account.totp_secret, step)
    verify = _call(url, VERIFY, {"code": code}, bearer=login["challengeToken"])["verifyMfa"]
    if verify["__typename"] == "SignedIn":
        return str(verify["token"])
    hint = f" ({REPLAY_HINT})" if verify["__typename"] == "CodeRejected" else ""
    raise Failed(_answer("verifyMfa", verify) + hint)


async def _demo_sign_in(chosen: Settings, role: Any) -> Any:
    from server import demo_accounts
    from server.db import close_db, init_db, open_vault

    await init_db(chosen)
    try:
        await open_vault(chosen)
        return await demo_accounts.sign_in_for(chosen, role)
    finally:
        await close_db()


def _answer(field: str, answer: dict[str, Any]) -> str:
    return f"{field} answered {answer['__typename']}: {answer.get('message', '')}".rstrip(": ")


def _call(
    url: str, query: str, variables: dict[str, str], bearer: str | None = None
) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    body = json.dumps({"query": query, "variables": variables}).encode()
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            answer = json.load(response)
    except urllib.error.HTTPError as error:
        answer = _json_or_none(error.read())
        if answer is None:
            raise Failed(f"{url} answered HTTP {error.code}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise Failed(
            f"cannot reach {url} ({reason}); is the demo running? "
            "Start it with python3 dev.py demo, or pass --url"
        ) from None
    if answer.get("errors"):
        first = answer["errors"][0]
        code = first.get("extensions", {}).get("code", "ERROR")
        raise Failed(f"{url} refused the request: {code}: {first.get('message', '')}")
    data = answer.get("data")
    if not isinstance(data, dict):
        raise Failed(f"{url} returned no data")
    return data


def _json_or_none(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
