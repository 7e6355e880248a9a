"""``leadvault migrate``, ``seed``, ``serve`` and ``demo``: the database and the server."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, date, datetime
from typing import Any

from server.cli import accounts
from server.cli.common import run, settings
from server.settings import Environment, Settings

EXAMPLE_QUERY = """\
  query {
    leads(first: 5, filter: {stage: [SQL, OPPORTUNITY]}) {
      totalCount
      edges { node { id firstName lastName companyName stage owner { displayName }
                     activities(first: 3) { edges { node { type occurredAt } } } } }
    }
  }"""


async def _migrate(settings: Settings) -> None:
    from server.db import close_db, migrate

    try:
        await migrate(settings)
    finally:
        await close_db()


async def _seed(settings: Settings, leads: int, seed: int, as_of: date) -> None:
    from leads.demo import DemoSeeder
    from server.cli.progress import Progress
    from server.db import close_db, init_db, open_vault

    await init_db(settings)
    try:
        print(await open_vault(settings))
        with Progress("seeding leads", leads) as progress:
            report = await DemoSeeder(seed, as_of).seed(leads, on_progress=progress.advance)
        scored = await _score_demo(as_of)
    finally:
        await close_db()
    print(
        f"seeded {report.leads} leads, {report.activities} activities, "
        f"{report.stage_changes} stage changes, {report.campaigns} campaigns, "
        f"{report.staff} staff in {report.teams} teams; {scored} leads scored"
    )


async def _score_demo(as_of: date) -> int:
    """Score the seeded leads under the published model as of the seeding date."""
    from leads.scoring import runs
    from server.cli.progress import Progress

    moment = datetime.combine(as_of, datetime.min.time(), UTC)
    run = await runs.start_decay_run(moment)
    with Progress("scoring leads", run.total) as progress:
        done = await runs.run_pending(
            run_id=run.id, on_progress=progress.advance, now=lambda: moment
        )
    return done.changed if done else 0


def _serve(settings: Settings) -> None:
    import uvicorn

    from server.app import create_app
    from server.logs import configure_logging

    configure_logging(settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=settings.shutdown_timeout,
        proxy_headers=False,
    )


async def _has_leads(settings: Settings) -> bool:
    from leads.models import Lead
    from server.db import close_db, init_db

    await init_db(settings)
    try:
        return await Lead.exists()
    finally:
        await close_db()


def _with_overrides(settings: Settings, host: str | None, port: int | None) -> Settings:
    from dataclasses import replace

    return replace(settings, host=host or settings.host, port=port or settings.port)


def add_commands(commands: Any) -> None:
    commands.add_parser("migrate", help="apply database migrations")
    seed = commands.add_parser("seed", help="add deterministic demo data")
    seed.add_argument("--leads", type=int, default=2000)
    seed.add_argument("--seed", type=int, default=7)
    seed.add_argument(
        "--as-of",
        type=date.fromisoformat,
        default=None,
        help="the day the 18 months of history end (default: today, UTC)",
    )
    for name, text in (
        ("serve", "run the API server"),
        ("demo", "migrate, seed if empty and serve in dev mode"),
    ):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--host")
        sub.add_argument("--port", type=int)
        if name == "demo":
            sub.add_argument("--leads", type=int, default=2000)


def handles(args: argparse.Namespace) -> bool:
    return bool(args.command in ("migrate", "seed", "serve", "demo"))


def main(args: argparse.Namespace) -> None:
    today = datetime.now(UTC).date()
    if args.command == "migrate":
        chosen = settings()
        asyncio.run(_migrate(chosen))
        print(f"migrated {chosen.database_label}")
    elif args.command == "seed":
        chosen = settings()
        if args.leads < 0:
            print("leadvault: --leads must be zero or more", file=sys.stderr)
            raise SystemExit(2)
        run(_seed(chosen, args.leads, args.seed, args.as_of or today))
    elif args.command == "serve":
        _serve(_with_overrides(settings(), args.host, args.port))
    elif args.command == "demo":
        _demo(args, today)


def _demo(args: argparse.Namespace, today: date) -> None:
    chosen = _with_overrides(settings(default_env=Environment.DEV), args.host, args.port)
    if not chosen.is_dev:
        print("leadvault: demo runs only with LEADVAULT_ENV=dev", file=sys.stderr)
        raise SystemExit(2)
    asyncio.run(_migrate(chosen))
    if not asyncio.run(_has_leads(chosen)):
        run(_seed(chosen, args.leads, 7, today))
    sign_ins = asyncio.run(accounts.demo_accounts(chosen))
    url = f"http://{chosen.host}:{chosen.port}/graphql"
    print(f"\nLeadVault demo (dev mode, {chosen.database_label})\n  GraphiQL: {url}")
    print("  Demo sign-ins (development only; TOTP codes from the secret, e.g. an app):")
    for account in sign_ins:
        print(
            f"    {account.role.value:<18} {account.email}\n"
            f"    {'':<18} password {account.password}  TOTP secret {account.totp_secret}"
        )
    print(f"  Example query (after signing in, see README):\n{EXAMPLE_QUERY}\n")
    _serve(chosen)
