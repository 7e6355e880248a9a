"""``leadvault scoring …`` (model versions, drafts, dry runs, publishing, rescoring),
``leadvault jobs scoring`` (finish pending runs, apply decay when due) and ``leadvault jobs
cold`` (mark leads that stopped engaging)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from server.settings import Settings


def add_commands(commands: Any, jobs_commands: Any) -> None:
    scoring = commands.add_parser("scoring", help="scoring models and rescoring")
    sub = scoring.add_subparsers(dest="scoring_command", required=True)
    sub.add_parser("list", help="every model version")
    show = sub.add_parser("show", help="one version's rules as JSON")
    show.add_argument("version", type=int)
    draft = sub.add_parser("draft", help="a new draft from a JSON file")
    draft.add_argument("file", type=Path)
    draft.add_argument("--note")
    update = sub.add_parser("update", help="replace a draft's rules from a JSON file")
    update.add_argument("version", type=int)
    update.add_argument("file", type=Path)
    update.add_argument("--note")
    dry = sub.add_parser("dry-run", help="what publishing a version would change")
    dry.add_argument("version", type=int)
    publish = sub.add_parser("publish", help="publish a draft and rescore every lead")
    publish.add_argument("version", type=int)
    publish.add_argument(
        "--no-run", action="store_true", help="leave the rescoring to serve's scoring job"
    )
    sub.add_parser("rescore", help="work through pending or abandoned rescoring runs")
    sub.add_parser("runs", help="recent rescoring runs")
    jobs_commands.add_parser(
        "scoring", help="finish pending rescoring runs; rescore for decay when due"
    )
    cold = jobs_commands.add_parser("cold", help="mark leads with no recent engagement cold")
    cold.add_argument("--dry-run", action="store_true")


async def run(settings: Settings, args: argparse.Namespace) -> None:
    from server.db import close_db, init_db, open_vault

    await init_db(settings)
    try:
        await open_vault(settings)
        if args.command == "jobs" and args.jobs_command == "cold":
            await _cold(settings, args.dry_run)
        elif args.command == "jobs":
            await _job(settings)
        else:
            await _scoring(args)
    finally:
        await close_db()


def _fail(message: str) -> None:
    print(f"leadvault: {message}", file=sys.stderr)
    raise SystemExit(1)


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        _fail(f"cannot read {path}: {error.__class__.__name__}")


async def _scoring(args: argparse.Namespace) -> None:
    from audit.events import Actor
    from core.errors import NotFound, ValidationFailed
    from leads.scoring import runs, service

    actor = Actor.operator()
    command = args.scoring_command
    try:
        if command == "list":
            for row in await service.versions():
                when = row.published_at or row.created_at
                print(f"v{row.version:<4} {row.status:<10} {when:%Y-%m-%d %H:%M} {row.note or ''}")
        elif command == "show":
            row = await service.get_version(args.version)
            print(json.dumps(row.definition, indent=2, sort_keys=True))
        elif command == "draft":
            row = await service.create_draft(actor, None, _read(args.file), args.note)
            print(f"draft v{row.version} created")
        elif command == "update":
            row = await service.update_draft(actor, args.version, _read(args.file), args.note)
            print(f"draft v{row.version} updated")
        elif command == "dry-run":
            report = await service.dry_run(args.version)
            print(
                f"v{report.version} against published v{report.against_version}: "
                f"{report.evaluated} leads evaluated, {report.not_scored} not scored (no basis), "
                f"{report.changed} scores change; MQL +{report.gain_mql} -{report.lose_mql}; "
                f"SQL +{report.gain_sql} -{report.lose_sql}"
            )
        elif command == "publish":
            run = await service.publish(actor, None, args.version)
            print(f"v{args.version} published; rescoring run {run.id} ({run.total} leads)")
            if not args.no_run:
                await _rescore()
        elif command == "rescore":
            await _rescore()
        elif command == "runs":
            for item in await runs.runs():
                print(
                    f"{item.id} v{item.model_version} {item.trigger:<16} {item.status:<8} "
                    f"{item.processed}/{item.total} changed {item.changed} "
                    f"advanced {item.advanced}"
                )
    except ValidationFailed as failure:
        _fail("; ".join(f"{e.field}: {e.message}" for e in failure.errors))
    except NotFound as missing:
        _fail(f"{missing.entity} not found")


async def _rescore() -> None:
    from leads.models import Lead
    from leads.scoring import runs
    from server.cli.progress import Progress

    while True:
        try:
            with Progress("rescoring leads", await Lead.all().count()) as progress:
                done = await runs.run_pending(on_progress=progress.advance)
        except runs.ScoringBusy as busy:
            _fail(str(busy))
        if done is None:
            break
        print(
            f"run {done.id}: {done.processed} leads, {done.changed} scores changed, "
            f"{done.advanced} moved forward"
        )
    for waiting in await runs.resuming_later(datetime.now(UTC)):
        until = waiting.lease_until.strftime("%H:%M:%SZ") if waiting.lease_until else "soon"
        print(
            f"run {waiting.id} was left running by a process that stopped; "
            f"it can be resumed after {until}"
        )


async def _job(settings: Settings) -> None:
    from leads.models import Lead
    from leads.scoring import runs
    from server.cli.progress import Progress

    with Progress("rescoring leads", await Lead.all().count()) as progress:
        done = await runs.scoring_job(
            timedelta(hours=settings.score_decay_hours), on_progress=progress.advance
        )
    if done is None:
        print("nothing to do: no pending run and decay is not due")
    else:
        print(
            f"run {done.id} ({done.trigger}): {done.processed} leads, "
            f"{done.changed} scores changed, {done.advanced} moved forward"
        )


async def _cold(settings: Settings, dry_run: bool) -> None:
    from datetime import UTC, datetime

    from audit.events import Actor
    from leads.cold import mark_cold

    after = timedelta(days=settings.cold_after_days)
    now = datetime.now(UTC)
    planned = await mark_cold(Actor.operator(), now, after, dry_run=True)
    print(f"leads with no engagement since {planned.cutoff:%Y-%m-%d}: {planned.leads}")
    if dry_run:
        return
    done = await mark_cold(Actor.operator(), now, after)
    print(f"marked {done.leads} leads cold")
