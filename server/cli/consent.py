"""``leadvault leads import``, ``jobs consent``, ``marketing export``, ``outbox deliver`` and
``consent report``."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from server.settings import Settings


def add_commands(commands: Any) -> Any:
    """Adds the commands; returns the ``jobs`` subcommands for other jobs to join."""
    leads = commands.add_parser("leads", help="lead data tools")
    leads_commands = leads.add_subparsers(dest="leads_command", required=True)
    imp = leads_commands.add_parser("import", help="import leads with consent from a CSV file")
    imp.add_argument("file", type=Path)
    imp.add_argument(
        "--partial", action="store_true", help="write the valid rows even if some are invalid"
    )
    imp.add_argument("--id", dest="import_id", help="a reference stored as consent evidence")
    jobs = commands.add_parser("jobs", help="scheduled jobs, run now")
    jobs_commands = jobs.add_subparsers(dest="jobs_command", required=True)
    consent_job = jobs_commands.add_parser(
        "consent", help="write lapsed grants as expired and clear scores without a basis"
    )
    consent_job.add_argument("--dry-run", action="store_true")
    marketing = commands.add_parser("marketing", help="marketing tools")
    marketing_commands = marketing.add_subparsers(dest="marketing_command", required=True)
    export = marketing_commands.add_parser(
        "export", help="CSV of the leads that consent to email marketing now"
    )
    export.add_argument("--output", "-o", type=Path, default=None)
    export.add_argument("--campaign", type=int, default=None)
    export.add_argument(
        "--cold", action="store_true", help="only cold leads (the re-engagement list)"
    )
    outbox = commands.add_parser("outbox", help="messages to data subjects")
    outbox_commands = outbox.add_subparsers(dest="outbox_command", required=True)
    outbox_commands.add_parser("deliver", help="send pending messages")
    consent = commands.add_parser("consent", help="consent ledger tools")
    consent_commands = consent.add_subparsers(dest="consent_command", required=True)
    consent_commands.add_parser("report", help="leads per purpose, basis, notice and status")
    return jobs_commands


async def run(settings: Settings, args: argparse.Namespace) -> None:
    from audit.events import Actor
    from server.db import close_db, init_db, open_vault

    await init_db(settings)
    try:
        await open_vault(settings)
        if args.command == "leads":
            await _import(args, Actor.operator())
        elif args.command == "jobs":
            await _consent_job(args, Actor.operator())
        elif args.command == "marketing":
            await _export(args, Actor.operator())
        elif args.command == "outbox":
            await _deliver(settings)
        elif args.command == "consent":
            await _report()
    finally:
        await close_db()


async def _import(args: argparse.Namespace, actor: Any) -> None:
    from leads.importer import count_rows, import_csv
    from server.cli.progress import Progress

    try:
        with args.file.open(encoding="utf-8-sig", newline="") as handle:
            total = count_rows(handle)
            handle.seek(0)
            with Progress("importing leads", total) as progress:
                report = await import_csv(
                    handle,
                    actor,
                    partial=args.partial,
                    import_id=args.import_id,
                    on_progress=progress.advance,
                )
    except OSError as failure:
        print(f"leadvault: cannot read the file: {type(failure).__name__}", file=sys.stderr)
        raise SystemExit(2) from None
    for problem in report.errors:
        print(f"line {problem.line}: {problem.field}: {problem.message}", file=sys.stderr)
    for line, into in report.merged_in_file:
        print(f"line {line}: merged into line {into} (same contact)")
    for line, lead_id in report.merged_existing:
        print(f"line {line}: merged into existing lead {lead_id}")
    if not report.written:
        print(
            f"nothing imported: {len(report.errors)} errors in {report.rows} rows", file=sys.stderr
        )
        raise SystemExit(1)
    print(
        f"imported {report.created} new leads from {report.rows} rows; "
        f"{len(report.merged_in_file)} merged within the file, "
        f"{len(report.merged_existing)} into existing leads, {report.refused_rows} rows refused, "
        f"{report.consent_events} consent events"
    )


async def _consent_job(args: argparse.Namespace, actor: Any) -> None:
    from leads.consent_jobs import run_consent_job
    from server.cli.progress import Progress

    now = datetime.now(UTC)
    planned = await run_consent_job(actor, now, dry_run=True)
    print(f"lapsed grants to expire: {planned.expired}; scores to clear: {planned.scores_cleared}")
    if args.dry_run:
        return
    with Progress("expiring grants", planned.expired) as progress:
        done = await run_consent_job(actor, now, on_progress=progress.advance)
    print(f"expired {done.expired} grants; cleared {done.scores_cleared} scores")


async def _export(args: argparse.Namespace, actor: Any) -> None:
    from leads.marketing import export_csv

    now = datetime.now(UTC)
    if args.output is None:
        rows = await export_csv(sys.stdout, actor, now, args.campaign, cold=args.cold)
    else:
        with args.output.open("w", encoding="utf-8", newline="") as handle:
            rows = await export_csv(handle, actor, now, args.campaign, cold=args.cold)
        args.output.chmod(0o600)
    print(f"exported {rows} contacts who consent to email marketing", file=sys.stderr)


async def _deliver(settings: Settings) -> None:
    from compliance.outbox import FileSender, deliver

    if settings.outbox_dir is None:
        print(
            "leadvault: no sender configured (LEADVAULT_OUTBOX_DIR); messages stay queued",
            file=sys.stderr,
        )
        raise SystemExit(2)
    report = await deliver(FileSender(settings.outbox_dir))
    print(
        f"sent {report.sent}, failed {report.failed}, dropped {report.dropped} "
        f"(subject erased) into {settings.outbox_dir}"
    )


async def _report() -> None:
    from compliance.consent.report import consent_report

    for row in await consent_report():
        print(
            f"{row.purpose:<22} {row.basis:<20} {row.notice_version or '-':<10} "
            f"{row.status:<10} {row.leads}"
        )
