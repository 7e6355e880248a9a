"""``leadvault worker`` (run the scheduled jobs) and ``leadvault jobs status`` (what each
job did last, what it is doing now, and when it runs next)."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from typing import Any

from server.settings import Settings


def add_commands(commands: Any, jobs_commands: Any) -> None:
    worker = commands.add_parser("worker", help="run every scheduled job (no requests served)")
    worker.add_argument(
        "--metrics-address",
        metavar="HOST:PORT",
        help="serve this process's job metrics for Prometheus at HOST:PORT (e.g. 127.0.0.1:9101)",
    )
    jobs_commands.add_parser(
        "status", help="each scheduled job's last run, next run, holder and progress"
    )


def handles(args: argparse.Namespace) -> bool:
    return args.command == "worker" or (
        args.command == "jobs" and getattr(args, "jobs_command", None) == "status"
    )


def main(settings: Settings, args: argparse.Namespace) -> None:
    from server.logs import configure_logging

    if args.command == "worker":
        from server.worker import run_worker, serve_metrics

        configure_logging(settings.log_level)
        if args.metrics_address:
            serve_metrics(args.metrics_address)
        asyncio.run(run_worker(settings))
    else:
        asyncio.run(_status(settings))


def _when(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "-"
    seconds = int((moment - now).total_seconds())
    if abs(seconds) < 1:
        return "now"
    span = abs(seconds)
    text = f"{span}s" if span < 120 else f"{span // 60}m" if span < 7200 else f"{span // 3600}h"
    return f"in {text}" if seconds > 0 else f"{text} ago"


async def _status(settings: Settings) -> None:
    from compliance.models import JobLease
    from compliance.runner import RUNNING, last_run, next_run
    from server.db import close_db, init_db
    from server.jobs import catalogue

    await init_db(settings)
    try:
        now = datetime.now(UTC)
        print(f"{'JOB':<17} {'EVERY':>7}  {'LAST RUN':<32} {'NEXT':<11} {'HOLDER':<30} PROGRESS")
        for job in catalogue(settings):
            last = await last_run(job.name)
            lease = await JobLease.filter(name=job.lease_name, until__gt=now).first()
            every = _when(now + job.every, now).removeprefix("in ")
            if last is None:
                described, progress = "never", "-"
            else:
                took = (
                    f" in {(last.finished_at - last.started_at).total_seconds():.1f}s"
                    if last.finished_at
                    else ""
                )
                described = f"{last.outcome} {_when(last.started_at, now)}{took}"
                counted = (
                    f"{last.done}/{last.total}" if last.total is not None else str(last.done or 0)
                )
                progress = counted if last.outcome == RUNNING else _counts(last.counts)
            print(
                f"{job.name:<17} {every:>7}  {described:<32} "
                f"{_when(next_run(job, last, now), now):<11} "
                f"{(lease.holder if lease else '-'):<30} {progress}"
            )
    finally:
        await close_db()


def _counts(counts: dict[str, int]) -> str:
    shown = [f"{name}={value}" for name, value in counts.items() if value]
    return ", ".join(shown) if shown else "nothing to do"
