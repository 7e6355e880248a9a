"""``leadvault audit verify|export|checkpoint|checkpoints|retention``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from server.settings import Settings

if TYPE_CHECKING:
    from audit.verify import Verification


def add_commands(commands: Any) -> None:
    audit = commands.add_parser("audit", help="the audit trail")
    sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = sub.add_parser("verify", help="check the hash chain and signed checkpoints")
    verify.add_argument("--from", dest="from_seq", type=int, default=None)
    verify.add_argument("--to", dest="to_seq", type=int, default=None)
    export = sub.add_parser("export", help="stream events as JSON lines or CSV")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument("--since", type=date.fromisoformat, default=None, help="YYYY-MM-DD")
    export.add_argument("--output", "-o", type=Path, default=None, help="default: stdout")
    sub.add_parser("checkpoint", help="sign the current head now")
    sub.add_parser("checkpoints", help="print every checkpoint with its public key (JSON)")
    retention = sub.add_parser("retention", help="delete events past the retention period")
    retention.add_argument("--dry-run", action="store_true")


@asynccontextmanager
async def _opened(settings: Settings) -> AsyncIterator[None]:
    from audit import chain
    from server.db import close_db, init_db, open_vault

    await init_db(settings)
    try:
        await open_vault(settings)
        chain.configure(settings.audit_checkpoint_every, settings.audit_checkpoint_minutes)
        yield
    finally:
        await close_db()


async def run(settings: Settings, args: argparse.Namespace) -> None:
    async with _opened(settings):
        command = args.audit_command
        if command == "verify":
            await _verify(args.from_seq, args.to_seq)
        elif command == "export":
            await _export(args.format, args.since, args.output)
        elif command == "checkpoint":
            await _checkpoint()
        elif command == "checkpoints":
            from audit.export import checkpoints

            sys.stdout.write(json.dumps(await checkpoints(), indent=2) + "\n")
        else:
            await _retention(settings, args.dry_run)


async def _verify(from_seq: int | None, to_seq: int | None) -> None:
    from audit.models import AuditEvent
    from audit.verify import verify
    from server.cli.progress import Progress

    total = await AuditEvent.filter(seq__isnull=False).count()
    with Progress("verifying events", total) as progress:
        result = await verify(from_seq, to_seq, on_progress=progress.advance)
    if result.ok:
        print(summary(result))
        return
    problem = result.problem
    assert problem is not None
    where = f"seq {problem.seq}" if problem.seq is not None else "the log"
    print(f"audit chain BROKEN at {where}: {problem.reason}", file=sys.stderr)
    raise SystemExit(1)


def summary(result: Verification) -> str:
    """What an unbroken chain looked like, in one line (an empty log says so)."""
    if not result.events_checked:
        events = "no events to check"
    else:
        events = f"{result.events_checked} events (seq {result.first_seq}–{result.last_seq})"
    if not result.checkpoints_checked:
        return f"audit chain OK: {events}, no signed checkpoints"
    return (
        f"audit chain OK: {events}, {result.checkpoints_checked} signed checkpoints, the last "
        f"at seq {result.last_checkpoint_seq}"
    )


async def _export(output_format: str, since: date | None, output: Path | None) -> None:
    from audit import export
    from audit.events import Actor, Event, Outcome, record
    from server.cli.progress import Progress

    moment = datetime(since.year, since.month, since.day, tzinfo=UTC) if since else None
    total = await export.count(moment)
    stream = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    written = 0
    try:
        if output_format == "csv":
            stream.write(export.csv_header())
        with Progress("exporting events", total, stream=sys.stderr) as progress:
            async for row in export.rows(moment):
                stream.write(
                    export.jsonl(row) if output_format == "jsonl" else export.csv_line(row)
                )
                written += 1
                progress.advance(1)
    finally:
        if output is not None:
            stream.close()
    await record(
        Event(
            action="audit.exported",
            outcome=Outcome.SUCCESS,
            actor=Actor.operator(),
            details={"events": written, "format": output_format, "since": str(since or "")},
        )
    )
    if output is not None:
        print(f"exported {written} events to {output}", file=sys.stderr)


async def _checkpoint() -> None:
    from audit.chain import checkpoint_now

    made = await checkpoint_now(datetime.now(UTC))
    if made is None:
        print("the audit log is empty; nothing to sign")
    else:
        print(f"checkpoint at seq {made.seq}: {made.head_hash}")


async def _retention(settings: Settings, dry_run: bool) -> None:
    from audit.events import Actor
    from audit.retention import RetentionRefused, prune
    from server.cli.progress import Progress

    now = datetime.now(UTC)
    older_than = now - timedelta(days=settings.audit_retention_days)
    planned = await prune(older_than, Actor.operator(), now, dry_run=True)
    print(
        f"{planned.events} events older than {older_than.date()} "
        f"({settings.audit_retention_days} days) {'would go' if dry_run else 'go'}"
    )
    if dry_run or not planned.events:
        return
    try:
        with Progress("deleting events", planned.events) as progress:
            done = await prune(older_than, Actor.operator(), now, on_progress=progress.advance)
    except RetentionRefused as refused:
        print(f"leadvault: {refused}", file=sys.stderr)
        raise SystemExit(1) from None
    print(
        f"deleted {done.events} events up to seq {done.cut_seq}; "
        "a signed checkpoint anchors the cut"
    )
