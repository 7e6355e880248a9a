"""``leadvault webhooks``: register, list, change, rotate, enable, disable and delete
endpoints; read an endpoint's deliveries and send one again. Acts as the operator (see
:mod:`server.cli.accounts`); secrets are printed once, when made."""

from __future__ import annotations

import argparse
import uuid
from typing import Any

from server.settings import Settings


def add_commands(commands: Any) -> None:
    from compliance.events.types import DeliveryStatus, EventType

    hooks = commands.add_parser("webhooks", help="webhook endpoints and their deliveries")
    sub = hooks.add_subparsers(dest="webhooks_command", required=True)
    types = [t.value for t in EventType]
    add = sub.add_parser("add", help="register an endpoint; prints its secret once")
    add.add_argument("url")
    add.add_argument(
        "--event", action="append", choices=types, help="a type to send (repeat; default all)"
    )
    add.add_argument("--description", default="")
    sub.add_parser("list", help="every endpoint")
    change = sub.add_parser("update", help="change an endpoint's URL, types or description")
    change.add_argument("id", type=uuid.UUID)
    change.add_argument("--url")
    change.add_argument("--event", action="append", choices=types)
    change.add_argument("--all-events", action="store_true", help="send every type")
    change.add_argument("--description")
    rotate = sub.add_parser("rotate", help="a new secret (printed once); the old one overlaps")
    rotate.add_argument("id", type=uuid.UUID)
    rotate.add_argument("--overlap-hours", type=int, default=24)
    for name, text in (("enable", "send new events again"), ("disable", "stop sending")):
        sub.add_parser(name, help=text).add_argument("id", type=uuid.UUID)
    sub.add_parser("delete", help="remove an endpoint and its log").add_argument(
        "id", type=uuid.UUID
    )
    deliveries = sub.add_parser("deliveries", help="an endpoint's deliveries, newest first")
    deliveries.add_argument("id", type=uuid.UUID)
    deliveries.add_argument("--status", choices=[s.value for s in DeliveryStatus])
    deliveries.add_argument("--limit", type=int, default=20)
    sub.add_parser("redeliver", help="send a delivery's event again").add_argument(
        "delivery_id", type=uuid.UUID
    )


async def run(settings: Settings, args: argparse.Namespace) -> None:
    from compliance.events import endpoints, log
    from identity.admin import OPERATOR
    from server.cli.accounts import as_operator

    command = args.webhooks_command
    async with as_operator(settings):
        if command == "add":
            issued = await endpoints.create(
                OPERATOR,
                args.url,
                args.event,
                args.description,
                settings.auth_policy(),
                allow_http=settings.is_dev,
            )
            print(f"endpoint {issued.endpoint.id}")
            print(f"secret {issued.secret}  (shown once: store it in the receiver now)")
        elif command == "list":
            for row in await endpoints.list_endpoints(OPERATOR):
                state = "enabled" if row.enabled else f"disabled ({row.disabled_reason})"
                kinds = ",".join(row.event_types) or "all events"
                print(f"{row.id}  {state:<20} {kinds}  {row.url}  {row.description}")
        elif command == "update":
            types = [] if args.all_events else args.event
            row = await endpoints.update(
                OPERATOR,
                args.id,
                url=args.url,
                event_types=types,
                description=args.description,
                allow_http=settings.is_dev,
            )
            print(f"endpoint {row.id} updated")
        elif command == "rotate":
            issued = await endpoints.rotate_secret(
                OPERATOR, args.id, settings.auth_policy(), endpoints.overlap_of(args.overlap_hours)
            )
            print(f"secret {issued.secret}  (shown once; the old one signs too until "
                  f"{issued.endpoint.previous_until:%Y-%m-%d %H:%M} UTC)")  # fmt: skip
        elif command in ("enable", "disable"):
            row = await endpoints.set_enabled(OPERATOR, args.id, command == "enable")
            print(f"endpoint {row.id} {'enabled' if row.enabled else 'disabled'}")
        elif command == "delete":
            await endpoints.delete(OPERATOR, args.id)
            print(f"endpoint {args.id} deleted")
        elif command == "deliveries":
            await _deliveries(args)
        elif command == "redeliver":
            again = await log.redeliver(OPERATOR, args.delivery_id)
            print(f"delivery {again.id} queued")


async def _deliveries(args: argparse.Namespace) -> None:
    from compliance.events import log
    from identity.admin import OPERATOR

    rows = await log.deliveries(OPERATOR, args.id, status=args.status, limit=args.limit)
    attempts = await log.attempts_of([row.id for row in rows])
    for row in rows:
        print(f"{row.id}  {row.event.type:<30} {row.status:<10} attempts {row.attempts}")
        for attempt in attempts.get(row.id, []):
            outcome = attempt.status_code or attempt.error
            print(
                f"    {attempt.attempted_at:%Y-%m-%d %H:%M:%S}  {outcome}  {attempt.latency_ms} ms"
            )
