"""The ``leadvault`` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Coroutine, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from server.cli import (
    accounts as account_commands,
)
from server.cli import (
    audit as audit_commands,
)
from server.cli import (
    consent as consent_commands,
)
from server.cli import (
    dsr as dsr_commands,
)
from server.cli import (
    pipeline as pipeline_commands,
)
from server.cli import (
    policy as policy_commands,
)
from server.settings import Environment, Settings, SettingsError

if TYPE_CHECKING:
    from leads.key_rotation import KeyStatus

EXAMPLE_QUERY = """\
  query {
    leads(first: 5, filter: {stage: [SQL, OPPORTUNITY]}) {
      totalCount
      edges { node { id firstName lastName companyName stage owner { displayName }
                     activities(first: 3) { edges { node { type occurredAt } } } } }
    }
  }"""


def _settings(default_env: Environment | None = None) -> Settings:
    try:
        return Settings.from_env(default_env=default_env)
    except SettingsError as error:
        print(f"leadvault: invalid configuration: {error}", file=sys.stderr)
        raise SystemExit(2) from None


def _run(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run a command; a key problem ends it with its message and exit status 2."""
    from crypto.keyring import KeyringError

    try:
        asyncio.run(coroutine)
    except KeyringError as error:
        print(f"leadvault: {error}", file=sys.stderr)
        raise SystemExit(2) from None


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
    from leads.scoring import service
    from server.cli.progress import Progress

    moment = datetime.combine(as_of, datetime.min.time(), UTC)
    run = await service.start_decay_run(moment)
    with Progress("scoring leads", run.total) as progress:
        done = await service.run_pending(
            run_id=run.id, on_progress=progress.advance, now=lambda: moment
        )
    return done.changed if done else 0


async def _keys(settings: Settings, args: argparse.Namespace) -> None:
    from crypto.keyring import FileKeySource
    from crypto.vault import current_vault
    from leads import key_rotation
    from server.cli.progress import Progress
    from server.db import close_db, init_db, key_file_of, open_vault

    await init_db(settings)
    try:
        await open_vault(settings)
        state = await key_rotation.status(current_vault())
        key_file = key_file_of(settings)
        if args.keys_command == "status":
            _print_status(state)
        elif args.keys_command == "rotate":
            if not state.keys_to_rewrap and not state.leads_to_reindex and not args.resume_only:
                if key_file is None:
                    print(
                        "master keys come from LEADVAULT_MASTER_KEY: add the new version "
                        "there (N:<base64 key>) and run `leadvault keys rotate` again"
                    )
                    return
                version = FileKeySource(key_file).add_version()
                print(f"added master key version {version} to {key_file}")
                await open_vault(settings)
                state = await key_rotation.status(current_vault())
            total = state.keys_to_rewrap + state.leads_to_reindex
            with Progress("rotating keys", total) as progress:
                moved = await key_rotation.rotate(
                    current_vault(), args.batch_size, progress.advance
                )
            print(f"moved {moved} rows to master key version {state.active_version}")
            _print_status(await key_rotation.status(current_vault()))
        elif args.keys_command == "retire":
            deleted = await key_rotation.retire(current_vault(), args.version)
            if key_file is not None:
                FileKeySource(key_file).remove_version(args.version)
                print(f"removed master key version {args.version} from {key_file}")
            else:
                print(f"remove version {args.version} from LEADVAULT_MASTER_KEY")
            print(f"dropped {deleted} blind-index entries of version {args.version}")
    except key_rotation.VersionInUse as error:
        print(f"leadvault: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    finally:
        await close_db()


def _print_status(state: KeyStatus) -> None:
    print(
        f"active master key version: {state.active_version} "
        f"(configured: {', '.join(map(str, state.configured_versions))})"
    )
    for version in sorted(set(state.subject_keys) | set(state.index_entries)):
        print(
            f"  version {version}: {state.subject_keys.get(version, 0)} subject keys, "
            f"{state.index_entries.get(version, 0)} blind-index entries"
        )
    print(f"leads still to re-index: {state.leads_to_reindex}")


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


def _schema_export(path: Path | None) -> None:
    from schema import build_schema

    sdl = build_schema(production=False).as_str() + "\n"
    if path is None:
        sys.stdout.write(sdl)
    else:
        path.write_text(sdl, encoding="utf-8")
        print(f"wrote {path}")


def _with_overrides(settings: Settings, host: str | None, port: int | None) -> Settings:
    from dataclasses import replace

    return replace(settings, host=host or settings.host, port=port or settings.port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="leadvault", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
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
    keys = commands.add_parser("keys", help="master key status and rotation")
    keys_commands = keys.add_subparsers(dest="keys_command", required=True)
    keys_commands.add_parser("status", help="key versions in use")
    rotate = keys_commands.add_parser(
        "rotate",
        help="add a master key version (key file) and move everything to it; "
        "resumes an interrupted rotation",
    )
    rotate.add_argument("--batch-size", type=int, default=500)
    rotate.add_argument(
        "--resume-only",
        action="store_true",
        help="never add a version; only finish moving to the active one",
    )
    retire = keys_commands.add_parser("retire", help="remove an old master key version")
    retire.add_argument("--version", type=int, required=True)
    account_commands.add_commands(commands)
    schema = commands.add_parser("schema", help="GraphQL schema tools")
    schema_commands = schema.add_subparsers(dest="schema_command", required=True)
    export = schema_commands.add_parser("export", help="write the schema as SDL")
    export.add_argument("--output", "-o", type=Path, default=None)
    policy_commands.add_schema_commands(schema_commands)
    policy_commands.add_commands(commands)
    audit_commands.add_commands(commands)
    jobs = consent_commands.add_commands(commands)
    pipeline_commands.add_commands(commands, jobs)
    dsr_commands.add_commands(commands, jobs)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    today = datetime.now(UTC).date()
    if args.command == "migrate":
        settings = _settings()
        asyncio.run(_migrate(settings))
        print(f"migrated {settings.database_label}")
    elif args.command == "seed":
        settings = _settings()
        if args.leads < 0:
            print("leadvault: --leads must be zero or more", file=sys.stderr)
            raise SystemExit(2)
        _run(_seed(settings, args.leads, args.seed, args.as_of or today))
    elif args.command == "serve":
        _serve(_with_overrides(_settings(), args.host, args.port))
    elif args.command == "demo":
        settings = _with_overrides(_settings(default_env=Environment.DEV), args.host, args.port)
        if not settings.is_dev:
            print("leadvault: demo runs only with LEADVAULT_ENV=dev", file=sys.stderr)
            raise SystemExit(2)
        asyncio.run(_migrate(settings))
        if not asyncio.run(_has_leads(settings)):
            _run(_seed(settings, args.leads, 7, today))
        accounts = asyncio.run(account_commands.demo_accounts(settings))
        url = f"http://{settings.host}:{settings.port}/graphql"
        print(f"\nLeadVault demo (dev mode, {settings.database_label})\n  GraphiQL: {url}")
        print("  Demo sign-ins (development only; TOTP codes from the secret, e.g. an app):")
        for account in accounts:
            print(
                f"    {account.role.value:<18} {account.email}\n"
                f"    {'':<18} password {account.password}  TOTP secret {account.totp_secret}"
            )
        print(f"  Example query (after signing in, see README):\n{EXAMPLE_QUERY}\n")
        _serve(settings)
    elif args.command == "keys":
        _run(_keys(_settings(), args))
    elif args.command == "users":
        _run(account_commands.users(_settings(), args))
    elif args.command == "api-keys":
        _run(account_commands.api_keys(_settings(), args))
    elif args.command == "schema" and args.schema_command == "export":
        _schema_export(args.output)
    elif args.command == "audit":
        _run(audit_commands.run(_settings(), args))
    elif args.command == "dsr" and args.dsr_command == "verify-certificate":
        dsr_commands.verify_certificate(args)
    elif dsr_commands.handles(args):
        _run(dsr_commands.run(_settings(), args))
    elif args.command == "scoring" or (
        args.command == "jobs" and args.jobs_command in ("scoring", "cold")
    ):
        _run(pipeline_commands.run(_settings(), args))
    elif args.command in ("leads", "jobs", "marketing", "outbox", "consent"):
        _run(consent_commands.run(_settings(), args))
    elif args.command in ("schema", "policy"):
        policy_commands.run(args)
