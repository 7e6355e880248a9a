"""``leadvault migrate``, ``seed``, ``serve`` and ``demo``: the database and the server."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
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
        f"{report.stage_changes} stage changes, {report.tasks} follow-up tasks, "
        f"{report.campaigns} campaigns, "
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
    """Answer requests: in this process when ``workers`` is 1, otherwise in that many
    worker processes sharing the port (a worker that dies is replaced; SIGTERM or Ctrl+C
    stops them all gracefully, each within LEADVAULT_SHUTDOWN_TIMEOUT)."""
    import uvicorn

    from server.logs import configure_logging

    configure_logging(settings.log_level)
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_config": None,
        "access_log": False,
        "timeout_graceful_shutdown": settings.shutdown_timeout,
        "proxy_headers": False,
    }
    if settings.workers == 1:
        from server.app import create_app

        uvicorn.run(create_app(settings), **options)
        return
    with _shared_metrics_dir():
        os.environ["LEADVAULT_SERVE_JOBS"] = "true" if settings.serve_jobs else "false"
        uvicorn.run(
            "server.asgi:from_environment", factory=True, workers=settings.workers, **options
        )


@contextmanager
def _shared_metrics_dir() -> Iterator[None]:
    """The directory where every worker process keeps its metrics for ``/metrics`` to add
    up: PROMETHEUS_MULTIPROC_DIR if set (emptied of an earlier run's files), otherwise a
    new temporary directory removed on the way out."""
    from server.metrics import MULTIPROCESS_DIR

    configured = os.environ.get(MULTIPROCESS_DIR)
    if configured:
        for stale in Path(configured).glob("*.db"):
            stale.unlink()
        yield
        return
    with tempfile.TemporaryDirectory(prefix="leadvault-metrics-") as directory:
        os.environ[MULTIPROCESS_DIR] = directory
        try:
            yield
        finally:
            del os.environ[MULTIPROCESS_DIR]


async def _has_leads(settings: Settings) -> bool:
    from leads.models import Lead
    from server.db import close_db, init_db

    await init_db(settings)
    try:
        return await Lead.exists()
    finally:
        await close_db()


def _with_overrides(settings: Settings, args: argparse.Namespace, **fixed: Any) -> Settings:
    from dataclasses import replace

    chosen = replace(settings, host=args.host or settings.host, port=args.port or settings.port)
    if getattr(args, "workers", None):
        chosen = replace(chosen, workers=args.workers)
    if getattr(args, "with_jobs", False):
        chosen = replace(chosen, serve_jobs=True)
    return replace(chosen, **fixed)


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
        else:
            sub.add_argument(
                "--workers",
                type=int,
                choices=range(1, 65),
                metavar="N",
                help="worker processes (default LEADVAULT_WORKERS, else one per CPU)",
            )
            sub.add_argument(
                "--with-jobs",
                action="store_true",
                help="also run the scheduled jobs (otherwise run `leadvault worker`)",
            )


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
        chosen = _with_overrides(settings(), args)
        ensure_port_free(chosen.host, chosen.port)
        _serve(chosen)
    elif args.command == "demo":
        _demo(args, today)


def ensure_port_free(host: str, port: int) -> None:
    """Stop before doing anything else when the address is taken, saying how to choose
    another (the demo would otherwise migrate, seed and print its sign-ins first)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            print(
                f"leadvault: cannot listen on {host}:{port} ({error.strerror}); another "
                "process may be using it. Choose another port with --port N or "
                "LEADVAULT_PORT=N.",
                file=sys.stderr,
            )
            raise SystemExit(2) from None


def _demo(args: argparse.Namespace, today: date) -> None:
    chosen = _with_overrides(
        settings(default_env=Environment.DEV), args, workers=1, serve_jobs=True
    )
    if not chosen.is_dev:
        print("leadvault: demo runs only with LEADVAULT_ENV=dev", file=sys.stderr)
        raise SystemExit(2)
    ensure_port_free(chosen.host, chosen.port)
    asyncio.run(_migrate(chosen))
    if not asyncio.run(_has_leads(chosen)):
        run(_seed(chosen, args.leads, 7, today))
    sign_ins = asyncio.run(accounts.demo_accounts(chosen))
    url = f"http://{chosen.host}:{chosen.port}/graphql"
    console = f"http://{chosen.host}:{chosen.port}/console/"
    print(f"\nLeadVault demo (dev mode, {chosen.database_label})\n  GraphiQL: {url}")
    print(
        f"  Console: {console} (compliance officers, auditors, admins: sign in with an "
        "account below and the code python3 dev.py code ROLE prints)"
    )
    print("  Demo sign-ins (development only; TOTP codes from the secret, e.g. an app):")
    for account in sign_ins:
        print(
            f"    {account.role.value:<18} {account.email}\n"
            f"    {'':<18} password {account.password}  TOTP secret {account.totp_secret}"
        )
    print(
        "  A bearer token for curl or GraphiQL's Headers tab, from another terminal in the "
        "project folder:\n    TOKEN=$(python3 dev.py token sales_manager"
        + (f" --port {chosen.port}" if chosen.port != 8000 else "")
        + ")"
    )
    print(f"  Example query (send Authorization: Bearer $TOKEN):\n{EXAMPLE_QUERY}\n")
    _serve(chosen)
