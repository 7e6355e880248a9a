"""Streaming the audit log out as JSON lines or CSV, oldest first, in batches (an export of
millions of events holds one batch in memory). Exports are themselves audited."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from audit.models import AuditCheckpoint, AuditEvent
from audit.signing import public_keys
from crypto.signing import public_hex

COLUMNS = (
    "seq",
    "occurred_at",
    "action",
    "outcome",
    "actor_type",
    "actor_id",
    "actor_role",
    "session_id",
    "request_id",
    "target_type",
    "target_id",
    "subject_ids",
    "fields",
    "fields_masked",
    "fields_denied",
    "purpose",
    "mfa_age_seconds",
    "client",
    "details",
    "prev_hash",
    "hash",
)
BATCH = 2000


def _record(row: AuditEvent) -> dict[str, Any]:
    values = {name: getattr(row, name) for name in COLUMNS if name != "fields"}
    values["fields"] = row.fields_touched
    values["occurred_at"] = row.occurred_at.astimezone(UTC).isoformat(timespec="microseconds")
    return values


async def count(since: datetime | None, through: int | None = None) -> int:
    query = AuditEvent.filter(seq__isnull=False)
    if since is not None:
        query = query.filter(occurred_at__gte=since)
    if through is not None:
        query = query.filter(seq__lte=through)
    return await query.count()


async def head_seq() -> int:
    """The newest event's number (0 for an empty log): an export through it is a fixed
    set of events, whatever is appended while it streams."""
    newest = await AuditEvent.filter(seq__isnull=False).order_by("-seq").first()
    return int(newest.seq or 0) if newest is not None else 0


async def rows(since: datetime | None, through: int | None = None) -> AsyncIterator[dict[str, Any]]:
    after = 0
    while True:
        query = AuditEvent.filter(seq__gt=after)
        if since is not None:
            query = query.filter(occurred_at__gte=since)
        if through is not None:
            query = query.filter(seq__lte=through)
        batch = await query.order_by("seq").limit(BATCH)
        for row in batch:
            yield _record(row)
        if len(batch) < BATCH:
            return
        after = batch[-1].seq or after


def jsonl(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n"


def csv_header() -> str:
    return ",".join(COLUMNS) + "\r\n"


def csv_line(record: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            json.dumps(record[c], sort_keys=True)
            if isinstance(record[c], list | dict)
            else record[c]
            for c in COLUMNS
        ]
    )
    return buffer.getvalue()


async def checkpoints() -> list[dict[str, Any]]:
    """Every checkpoint with the public key that verifies it (for offline checks)."""
    keys = {v: public_hex(k) for v, k in (await public_keys()).items()}
    found = []
    for c in await AuditCheckpoint.all().order_by("seq"):
        found.append(
            {
                "seq": c.seq,
                "head_hash": c.head_hash,
                "created_at": c.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
                "key_version": c.key_version,
                "public_key": keys.get(c.key_version),
                "signature": c.signature,
                "reason": c.reason,
                "signed_message": f"leadvault-audit-checkpoint:v1|{c.seq}|{c.head_hash}|"
                + c.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
            }
        )
    return found
