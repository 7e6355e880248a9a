"""Messages to data subjects: written to an outbox table in the transaction that caused
them, delivered afterwards by a pluggable sender.

Writing to the table rather than sending inline means a rolled-back capture sends nothing
and a mail outage loses nothing. Recipient and body are sealed with the subject's key.
Senders: :class:`FileSender` (development: one JSON file per message in a folder) and
anything implementing :class:`Sender` (an SMTP or mail-API client in production). Delivery
records only the message id and template in logs and errors, never an address or body.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from tortoise.transactions import in_transaction

from compliance.models import OutboxMessage
from core.files import write_private
from crypto.vault import current_vault

log = logging.getLogger("leadvault.outbox")
MAX_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    id: uuid.UUID
    template: str
    recipient: str
    body: str


class Sender(Protocol):
    async def send(self, message: OutgoingMessage) -> None: ...


class FileSender:
    """Writes each message to ``folder/<id>.json`` (mode 0600): development only, so a
    developer can read what would have been sent."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def send(self, message: OutgoingMessage) -> None:
        data = {
            "id": str(message.id),
            "template": message.template,
            "to": message.recipient,
            "body": message.body,
        }
        write_private(self.folder / f"{message.id}.json", json.dumps(data, indent=2).encode())


async def enqueue(
    lead_id: uuid.UUID, key: bytes, template: str, recipient: str, body: str, now: datetime
) -> OutboxMessage:
    """Queue a message inside the caller's transaction."""
    message_id = uuid.uuid4()
    sealed = current_vault().seal_values(
        OutboxMessage, message_id, key, {"recipient": recipient, "body": body}
    )
    return await OutboxMessage.create(
        id=message_id, lead_id=lead_id, template=template, created_at=now, **sealed
    )


async def open_message(row: OutboxMessage) -> OutgoingMessage | None:
    """The message in clear, or None when its subject has been erased."""
    vault = current_vault()
    key = (await vault.subject_keys([row.lead_id])).get(row.lead_id)
    if key is None:
        return None
    recipient = vault.open_value(OutboxMessage, "recipient", row.id, row.recipient, key)
    body = vault.open_value(OutboxMessage, "body", row.id, row.body, key)
    return OutgoingMessage(row.id, row.template, recipient or "", body or "")


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    dropped: int = 0
    """Messages whose subject was erased before delivery: never sent, marked done."""


async def deliver(
    sender: Sender,
    *,
    batch: int = 100,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> DeliveryReport:
    """Send pending messages, oldest first. Each message is claimed with a row lock (so
    several processes never send the same one), sent, and marked; a failure is counted
    and retried on the next run, up to :data:`MAX_ATTEMPTS`."""
    sent = failed = dropped = 0
    pending = (
        await OutboxMessage.filter(sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS)
        .order_by("created_at")
        .limit(batch)
        .values_list("id", flat=True)
    )
    for message_id in pending:
        async with in_transaction("default"):
            row = (
                await OutboxMessage.filter(id=message_id, sent_at__isnull=True)
                .select_for_update()
                .first()
            )
            if row is None:
                continue
            message = await open_message(row)
            if message is None:
                row.sent_at, row.last_error = now(), "subject_erased"
                await row.save(update_fields=["sent_at", "last_error"])
                dropped += 1
                continue
            try:
                await sender.send(message)
            except Exception as error:
                row.attempts += 1
                row.last_error = type(error).__name__[:64]
                await row.save(update_fields=["attempts", "last_error"])
                log.warning(
                    "message not delivered",
                    extra={"message_id": str(row.id), "template": row.template},
                )
                failed += 1
                continue
            row.sent_at, row.attempts = now(), row.attempts + 1
            await row.save(update_fields=["sent_at", "attempts"])
            sent += 1
    return DeliveryReport(sent, failed, dropped)
