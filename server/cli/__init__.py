"""The ``leadvault`` command."""

# One module per command group, each adding its parsers and running its commands.

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from collections.abc import Sequence

from server.cli import (
    accounts,
    audit,
    consent,
    dev,
    dsr,
    jobs,
    keys,
    pipeline,
    policy,
    schema,
    service,
    webhooks,
)
from server.cli.common import run, settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="leadvault", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    service.add_commands(commands)
    keys.add_commands(commands)
    accounts.add_commands(commands)
    schema.add_commands(commands)
    dev.add_commands(commands)
    policy.add_commands(commands)
    audit.add_commands(commands)
    jobs_commands = consent.add_commands(commands)
    pipeline.add_commands(commands, jobs_commands)
    dsr.add_commands(commands, jobs_commands)
    jobs.add_commands(commands, jobs_commands)
    webhooks.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    try:
        _main(argv)
    except KeyboardInterrupt:  # Ctrl+C: stop quietly (what was committed stays committed)
        print("\nleadvault: stopped", file=sys.stderr)
        _exit_now_if_threads_linger()
        raise SystemExit(130) from None


def _exit_now_if_threads_linger() -> None:
    """Leave at once when a worker thread is still alive: an interrupt can land while a
    database connection is being opened or closed, and its thread (SQLite connections each
    have one, not a daemon) would otherwise hold the exit forever. Nothing uncommitted is
    lost that would not be lost anyway; the streams are flushed first."""
    lingering = [
        thread
        for thread in threading.enumerate()
        if thread is not threading.main_thread() and not thread.daemon and thread.is_alive()
    ]
    if lingering:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)


def _main(argv: Sequence[str] | None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if service.handles(args):
        service.main(args)
    elif jobs.handles(args):
        jobs.main(settings(), args)
    elif args.command == "keys":
        run(keys.run(settings(), args))
    elif args.command == "users":
        run(accounts.users(settings(), args))
    elif args.command == "api-keys":
        run(accounts.api_keys(settings(), args))
    elif args.command == "dev":
        dev.main(args)
    elif args.command == "schema":
        schema.run(args)
    elif args.command == "audit":
        run(audit.run(settings(), args))
    elif args.command == "dsr" and args.dsr_command == "verify-certificate":
        dsr.verify_certificate(args)
    elif dsr.handles(args):
        run(dsr.run(settings(), args))
    elif args.command == "scoring" or (
        args.command == "jobs" and args.jobs_command in ("scoring", "cold")
    ):
        run(pipeline.run(settings(), args))
    elif args.command in ("leads", "jobs", "marketing", "outbox", "consent"):
        run(consent.run(settings(), args))
    elif args.command == "webhooks":
        run(webhooks.run(settings(), args))
    elif args.command == "policy":
        policy.run(args)
