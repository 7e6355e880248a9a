"""``leadvault dsr …``, ``holds …``, ``ropa export``, ``jobs retention`` and ``jobs erasure``:
data-subject requests and retention for the operator at the server's shell."""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from server.settings import Settings

KINDS = ("access", "portability", "erasure", "rectification", "objection")


def add_commands(commands: Any, jobs: Any) -> None:
    dsr = commands.add_parser("dsr", help="data-subject requests")
    sub = dsr.add_subparsers(dest="dsr_command", required=True)
    create = sub.add_parser("create", help="log a request as received")
    create.add_argument("--kind", choices=KINDS, required=True)
    create.add_argument("--jurisdiction", choices=("gdpr", "ccpa"), required=True)
    create.add_argument("--email")
    create.add_argument("--phone")
    create.add_argument("--channel", default="email")
    create.add_argument("--details")
    create.add_argument("--received-at", type=datetime.fromisoformat, default=None)
    listing = sub.add_parser("list", help="requests, soonest due first")
    listing.add_argument("--open", action="store_true", help="only open requests")
    sub.add_parser("alerts", help="open requests due within 7 days or overdue")
    for name, text in (
        ("show", "one request"),
        ("send-code", "send the requester an identity code (acknowledges receipt)"),
        ("submit", "submit an erasure for approval"),
        ("approve", "approve an erasure"),
    ):
        sub.add_parser(name, help=text).add_argument("request_id", type=uuid.UUID)
    verify = sub.add_parser("verify", help="check the code the requester read back")
    verify.add_argument("request_id", type=uuid.UUID)
    verify.add_argument("code")
    assign = sub.add_parser("assign", help="assign to a compliance officer")
    assign.add_argument("request_id", type=uuid.UUID)
    assign.add_argument("--to", required=True, help="the officer's email or id")
    extend = sub.add_parser("extend", help="extend the deadline once, with a reason")
    extend.add_argument("request_id", type=uuid.UUID)
    extend.add_argument("--by", type=int, required=True, help="months (GDPR) or days (CCPA)")
    extend.add_argument("--reason", required=True)
    reject = sub.add_parser("reject", help="reject with a reason")
    reject.add_argument("request_id", type=uuid.UUID)
    reject.add_argument("--reason", required=True)
    reject.add_argument("--note")
    export = sub.add_parser("export", help="generate an access export and send its link")
    export.add_argument("request_id", type=uuid.UUID)
    export.add_argument("--format", choices=("json", "csv"), default="json")
    complete = sub.add_parser("complete", help="close an access/portability/objection request")
    complete.add_argument("request_id", type=uuid.UUID)
    complete.add_argument("--purposes", help="objection: comma-separated (default: all)")
    execute = sub.add_parser("execute", help="carry out approved erasures now")
    execute.add_argument("request_id", type=uuid.UUID, nargs="?")
    certificate = sub.add_parser("certificate", help="write an erasure certificate")
    certificate.add_argument("request_id", type=uuid.UUID)
    certificate.add_argument("--output", "-o", type=Path)
    check = sub.add_parser("verify-certificate", help="check a certificate offline")
    check.add_argument("file", type=Path)
    check.add_argument("--public-key", help="accept only this signing key (hex)")
    sub.add_parser("public-key", help="print the certificate signing key to publish")

    holds = commands.add_parser("holds", help="legal holds")
    holds_sub = holds.add_subparsers(dest="holds_command", required=True)
    place = holds_sub.add_parser("place", help="place a hold on a lead or a data category")
    target = place.add_mutually_exclusive_group(required=True)
    target.add_argument("--lead", type=uuid.UUID)
    target.add_argument("--category")
    place.add_argument("--reason", required=True)
    place.add_argument("--owner", required=True, help="the owner's email or id")
    place.add_argument("--expires", type=datetime.fromisoformat, default=None)
    holds_list = holds_sub.add_parser("list", help="active holds")
    holds_list.add_argument("--all", action="store_true", help="released and expired too")
    holds_sub.add_parser("release", help="release a hold").add_argument("hold_id", type=uuid.UUID)

    ropa = commands.add_parser("ropa", help="record of processing activities (Art. 30)")
    ropa_sub = ropa.add_subparsers(dest="ropa_command", required=True)
    ropa_export = ropa_sub.add_parser("export", help="generated from the configuration")
    ropa_export.add_argument("--format", choices=("json", "csv"), default="json")
    ropa_export.add_argument("--output", "-o", type=Path)

    retention = jobs.add_parser("retention", help="remove what the retention periods say")
    retention.add_argument("--dry-run", action="store_true")
    jobs.add_parser("erasure", help="carry out approved erasures")


def handles(args: argparse.Namespace) -> bool:
    return args.command in ("dsr", "holds", "ropa") or (
        args.command == "jobs" and args.jobs_command in ("retention", "erasure")
    )


def verify_certificate(args: argparse.Namespace) -> None:
    """Offline: needs neither the database nor the master key."""
    from rights.certificate import verify

    try:
        document = json.loads(args.file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        print(f"leadvault: cannot read {args.file}: {type(error).__name__}", file=sys.stderr)
        raise SystemExit(2) from None
    verdict = verify(document, args.public_key)
    if verdict.valid:
        print(
            f"certificate OK: request {document.get('request_id')}, outcome "
            f"{document.get('outcome')}, signed by Ed25519 key {verdict.public_key}"
        )
        return
    print(f"certificate INVALID: {verdict.reason}", file=sys.stderr)
    raise SystemExit(1)


def _now() -> datetime:
    return datetime.now(UTC)


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        output.write_text(text, encoding="utf-8")
        print(f"wrote {output}")


async def _staff_id(reference: str) -> uuid.UUID:
    from identity.models import StaffUser

    try:
        return uuid.UUID(reference)
    except ValueError:
        user = await StaffUser.get_or_none(email=reference.strip().lower())
        if user is None:
            print("leadvault: no member of staff with that email", file=sys.stderr)
            raise SystemExit(2) from None
        return user.id


async def run(settings: Settings, args: argparse.Namespace) -> None:
    from core.errors import NotFound, ValidationFailed
    from rights.errors import CodeRejected, RequestRefused
    from server.db import close_db, init_db, open_vault

    await init_db(settings)
    try:
        await open_vault(settings)
        if args.command == "dsr":
            await _dsr(args)
        elif args.command == "holds":
            await _holds(args)
        elif args.command == "ropa":
            _ropa(args)
        elif args.jobs_command == "retention":
            await _retention(args)
        else:
            await _erasures(None)
    except ValidationFailed as failure:
        for error in failure.errors:
            print(f"leadvault: {error.field}: {error.message}", file=sys.stderr)
        raise SystemExit(2) from None
    except (RequestRefused, CodeRejected, NotFound) as refusal:
        print(f"leadvault: {refusal}", file=sys.stderr)
        raise SystemExit(1) from None
    finally:
        await close_db()


def _show(request: Any) -> str:
    from rights.requests import alert_of

    alert = alert_of(request, _now())
    return (
        f"{request.id}  {request.kind.value:<13} {request.jurisdiction.value:<4} "
        f"{request.status.value:<17} due {request.due_at.date().isoformat()}"
        f"{'  ' + alert.upper() if alert else ''}"
    )


async def _dsr(args: argparse.Namespace) -> None:
    from compliance.dsr.models import RejectionReason
    from rights import certificate, erasure, export, fulfil, requests, verification
    from rights.officers import OPERATOR

    command, now = args.dsr_command, _now()
    if command == "create":
        new = requests.NewRequest(
            kind=args.kind,
            jurisdiction=args.jurisdiction,
            email=args.email,
            phone=args.phone,
            details=args.details,
            channel=args.channel,
            received_at=args.received_at.astimezone(UTC) if args.received_at else None,
        )
        print(_show(await requests.receive(OPERATOR, new, now)))
    elif command in ("list", "alerts"):
        chosen = requests.RequestFilter(open_only=getattr(args, "open", False))
        found = await requests.list_requests(OPERATOR, chosen, now, limit=1000)
        shown = [r for r in found if command == "list" or requests.alert_of(r, now)]
        for request in shown:
            print(_show(request))
        if not shown:
            print("no requests" if command == "list" else "no deadline alerts")
    elif command == "show":
        request = await requests.get(OPERATOR, args.request_id)
        print(_show(request))
        requester = await requests.requester_of(OPERATOR, request.id, now)
        print(f"  requester email {requester.email or '-'}, phone {requester.phone or '-'}")
        if requester.details:
            print(f"  details: {requester.details}")
        from rights.subjects import subject_ids

        for lead_id in await subject_ids(request.id):
            print(f"  subject lead {lead_id}")
    elif command == "send-code":
        expires = await verification.send_code(OPERATOR, args.request_id, now)
        print(f"code sent; it expires at {expires.isoformat()}")
    elif command == "verify":
        print(_show(await verification.verify_code(OPERATOR, args.request_id, args.code, now)))
    elif command == "assign":
        officer = await _staff_id(args.to)
        print(_show(await requests.assign(OPERATOR, args.request_id, officer, now)))
    elif command == "extend":
        print(_show(await requests.extend(OPERATOR, args.request_id, args.by, args.reason, now)))
    elif command == "reject":
        reason = RejectionReason(args.reason)
        print(_show(await requests.reject(OPERATOR, args.request_id, reason, args.note, now)))
    elif command == "export":
        made = await export.generate(OPERATOR, args.request_id, args.format, now)
        print(f"export {made.export.id} ({made.export.size} bytes), link sent to the requester")
        print(f"link (until {made.link_expires_at.isoformat()}): {made.url}")
    elif command == "complete":
        chosen_purposes = args.purposes.split(",") if args.purposes else None
        done = await fulfil.complete(
            OPERATOR, args.request_id, now, objected_purposes=chosen_purposes
        )
        print(_show(done))
    elif command == "submit":
        print(_show(await erasure.submit(OPERATOR, args.request_id, now)))
    elif command == "approve":
        print(_show(await erasure.approve(OPERATOR, args.request_id, now)))
    elif command == "execute":
        await _erasures(args.request_id)
    elif command == "certificate":
        request = await requests.get(OPERATOR, args.request_id)
        if not request.certificate:
            print("leadvault: this request has no certificate (yet)", file=sys.stderr)
            raise SystemExit(1)
        _write(json.dumps(json.loads(request.certificate), indent=2, sort_keys=True), args.output)
    elif command == "public-key":
        print(await certificate.public_key_hex())


async def _erasures(request_id: uuid.UUID | None) -> None:
    from audit.events import Actor
    from rights import erasure

    if request_id is not None:
        result = await erasure.execute(request_id, now=_now, actor=Actor.operator())
        results = [result] if result is not None else []
        if result is None:
            print("another process is working on this erasure; try again later")
            return
    else:
        results = await erasure.run_approved(Actor.operator(), _now)
    for done in results:
        outcome = done.certificate["outcome"] if done.certificate else "?"
        print(
            f"erasure {done.request_id}: {done.erased} subject(s) erased, {done.held} held "
            f"({outcome})"
        )
    if not results:
        print("no approved erasures waiting")


async def _holds(args: argparse.Namespace) -> None:
    from rights import holds
    from rights.officers import OPERATOR

    now = _now()
    if args.holds_command == "place":
        hold = await holds.place(
            OPERATOR,
            reason=args.reason,
            owner_id=await _staff_id(args.owner),
            lead_id=args.lead,
            category=args.category,
            expires_at=args.expires.astimezone(UTC) if args.expires else None,
            now=now,
        )
        print(f"hold {hold.id} placed")
    elif args.holds_command == "list":
        found = await holds.list_holds(OPERATOR, now, active_only=not args.all)
        for hold in found:
            what = f"lead {hold.lead_id}" if hold.lead_id else f"category {hold.category}"
            until = hold.expires_at.date().isoformat() if hold.expires_at else "no expiry"
            state = "released" if hold.released_at else until
            print(f"{hold.id}  {what:<45} owner {hold.owner_id}  {state}")
        if not found:
            print("no holds")
    else:
        await holds.release(OPERATOR, args.hold_id, now)
        print(f"hold {args.hold_id} released")


def _ropa(args: argparse.Namespace) -> None:
    from rights.ropa import as_csv, record_of_processing

    record = record_of_processing(_now())
    text = as_csv(record) if args.format == "csv" else json.dumps(record, indent=2)
    _write(text, args.output)


async def _retention(args: argparse.Namespace) -> None:
    from audit.events import Actor
    from rights import retention
    from rights.retention_policy import retention_policy
    from server.cli.progress import Progress

    policy, now = retention_policy(), _now()
    planned = await retention.plan(policy, now)
    for category, count in planned.counts.items():
        held = "  (legal hold)" if category in planned.held else ""
        print(f"{category.value:<13} {count:>9} {'would go' if args.dry_run else 'to go'}{held}")
    verb = "would go" if args.dry_run else "to go"
    print(f"{'orphaned keys':<13} {planned.orphaned_keys:>9} {verb}  (keys no record uses)")
    if args.dry_run:
        return
    bars = {c: Progress(f"retention {c.value}", n) for c, n in planned.counts.items() if n}
    try:
        done = await retention.run(
            policy,
            now,
            Actor.operator(),
            progress=lambda category, n: bars[category].advance(n) if category in bars else None,
        )
    except retention.RetentionBusy as busy:
        print(f"leadvault: {busy}", file=sys.stderr)
        raise SystemExit(1) from None
    finally:
        for bar in bars.values():
            bar.__exit__(None, None, None)
    removed = [f"{c.value} {n}" for c, n in done.counts.items()]
    print("removed: " + ", ".join([*removed, f"orphaned keys {done.orphaned_keys}"]))
