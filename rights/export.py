"""Access and portability exports: generated for a verified request, encrypted at rest,
handed out through a short-lived signed link, deleted when they expire.

The file (JSON, or CSV rows) is sealed with AES-256-GCM under a key of its own kept in the
key store, bound to the export's id; deleting the export shreds that key. The download link
carries the export id, an expiry time and an HMAC over both (a key derived from the master
key), so the server keeps no link tokens and a link cannot be stretched or pointed at
another export. Generating, sending and every download (or refused download) are audited.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from audit.events import Actor, Event, Outcome, Target, record
from compliance.dsr.models import RequestKind, SubjectExport
from core.errors import FieldError, NotFound, ValidationFailed
from core.files import write_private
from crypto.envelope import Location, open_sealed_bytes, seal_bytes
from crypto.vault import DATA_KEY_VERSION, current_vault
from rights import document
from rights.config import dsr_config
from rights.errors import RequestRefused
from rights.officers import Officer, actor_of, user_id_of
from rights.requests import WORKING, locked, notify_requester, require_status
from rights.subjects import link_subjects, subject_ids

LINK_PURPOSE = "dsr-export-link"
FORMATS = {"json": "application/json", "csv": "text/csv"}
_KINDS = frozenset({RequestKind.ACCESS, RequestKind.PORTABILITY})


def _location(export_id: uuid.UUID) -> Location:
    return Location("dsr_export", "file", str(export_id))


def _path(export_id: uuid.UUID) -> Path:
    return dsr_config().export_dir / f"{export_id}.lvx"


def _signature(export_id: uuid.UUID, expires: int) -> str:
    key = current_vault().keyring.derive(LINK_PURPOSE)
    return hmac.new(key, f"{export_id}|{expires}".encode(), hashlib.sha256).hexdigest()


def link_for(export: SubjectExport, now: datetime) -> tuple[str, datetime]:
    """A download URL valid for the configured link lifetime (never past the export's own
    expiry), and when it stops working."""
    config = dsr_config()
    until = min(now + config.link_lifetime, export.expires_at)
    expires = int(until.timestamp())
    url = (
        f"{config.public_url.rstrip('/')}/dsr/exports/{export.id}"
        f"?expires={expires}&signature={_signature(export.id, expires)}"
    )
    return url, datetime.fromtimestamp(expires, UTC)


def _render(content: dict[str, object], fmt: str) -> bytes:
    if fmt == "json":
        return json.dumps(content, indent=2, ensure_ascii=False).encode()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["section", "lead_id", "item", "field", "value"])
    writer.writerows(document.flatten(content))
    return buffer.getvalue().encode()


@dataclass(frozen=True, slots=True)
class Generated:
    export: SubjectExport
    url: str
    link_expires_at: datetime


async def generate(officer: Officer, request_id: uuid.UUID, fmt: str, now: datetime) -> Generated:
    """Build the export of everything held about the requester's leads, store it
    encrypted, and send the requester a download link."""
    if fmt not in FORMATS:
        raise ValidationFailed([FieldError("format", "invalid", "one of: csv, json")])
    export_id = uuid.uuid4()
    try:
        return await _generate(officer, request_id, fmt, export_id, now)
    except BaseException:
        _path(export_id).unlink(missing_ok=True)
        await current_vault().keystore.shred(str(export_id))
        raise


async def _generate(
    officer: Officer, request_id: uuid.UUID, fmt: str, export_id: uuid.UUID, now: datetime
) -> Generated:
    vault = current_vault()
    async with in_transaction("default"):
        request = await locked(officer, request_id)
        if request.kind not in _KINDS:
            raise RequestRefused("not_access", "exports answer access and portability requests")
        require_status(request, WORKING)
        await link_subjects(request)
        content = await document.build(request, await subject_ids(request.id), now)
        data = _render(content, fmt)
        key = (await vault.subject_keys([export_id], create=True))[export_id]
        write_private(
            _path(export_id), seal_bytes(key, DATA_KEY_VERSION, _location(export_id), data)
        )
        export = await SubjectExport.create(
            id=export_id,
            request_id=request.id,
            format=fmt,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            created_at=now,
            created_by_id=user_id_of(officer),
            expires_at=now + dsr_config().export_lifetime,
        )
        url, until = link_for(export, now)
        await notify_requester(
            request,
            "dsr_export_ready",
            f"A copy of your personal data is ready. Download it before {until.isoformat()} "
            f"from: {url}",
            now,
        )
        await record(
            Event(
                action="dsr.export.generated",
                outcome=Outcome.SUCCESS,
                actor=actor_of(officer),
                target=Target("dsr_export", str(export.id)),
                subject_ids=tuple(s["lead_id"] for s in content["subjects"]),
                details={"request": str(request.id), "format": fmt, "bytes": len(data)},
            ),
            now=now,
        )
    return Generated(export, url, until)


class DownloadRefused(Exception):
    """The link is malformed, tampered with, expired, or its export is gone (one shape)."""

    def __init__(self) -> None:
        super().__init__("this download link is not valid or has expired")


@dataclass(frozen=True, slots=True)
class Download:
    filename: str
    content_type: str
    data: bytes


async def _refuse(export_id: str, reason: str, now: datetime) -> DownloadRefused:
    """Audit a refused download. The target is named only when it is a well-formed id: a
    caller controls the path and must not be able to write text into the log."""
    try:
        target = Target("dsr_export", str(uuid.UUID(export_id)))
    except ValueError:
        target = None
    await record(
        Event(
            action="dsr.export.download_refused",
            outcome=Outcome.DENIED,
            actor=Actor.anonymous(),
            target=target,
            details={"reason": reason},
        ),
        now=now,
    )
    return DownloadRefused()


async def download(export_id: str, expires: str, signature: str, now: datetime) -> Download:
    """The decrypted file for a valid link; every attempt is audited."""
    try:
        parsed, until = uuid.UUID(export_id), int(expires)
    except ValueError:
        raise await _refuse(export_id, "malformed", now) from None
    if not hmac.compare_digest(_signature(parsed, until), signature):
        raise await _refuse(export_id, "bad_signature", now)
    if now.timestamp() > until:
        raise await _refuse(export_id, "link_expired", now)
    export = await SubjectExport.get_or_none(id=parsed)
    key = (await current_vault().subject_keys([parsed])).get(parsed)
    if export is None or export.deleted_at is not None or key is None or now > export.expires_at:
        raise await _refuse(export_id, "export_gone", now)
    data = open_sealed_bytes(key, _path(parsed).read_bytes(), _location(parsed))
    async with in_transaction("default"):
        await SubjectExport.filter(id=parsed).update(
            downloads=F("downloads") + 1, last_downloaded_at=now
        )
        await record(
            Event(
                action="dsr.export.downloaded",
                outcome=Outcome.SUCCESS,
                actor=Actor.anonymous(),
                target=Target("dsr_export", str(parsed)),
                details={"request": str(export.request_id), "bytes": len(data)},
            ),
            now=now,
        )
    return Download(f"personal-data-{parsed}.{export.format}", FORMATS[export.format], data)


async def new_link(officer: Officer, export_id: uuid.UUID, now: datetime) -> Generated:
    """A fresh link for an export that has not expired (the first one lapsed)."""
    export = await SubjectExport.get_or_none(id=export_id)
    if export is None or export.deleted_at is not None or now > export.expires_at:
        raise NotFound("dsr_export")
    async with in_transaction("default"):
        request = await locked(officer, export.request_id)
        require_status(request, WORKING)
        url, until = link_for(export, now)
        await notify_requester(
            request,
            "dsr_export_ready",
            f"Your download link: {url} (until {until.isoformat()})",
            now,
        )
        await record(
            Event(
                action="dsr.export.link_sent",
                outcome=Outcome.SUCCESS,
                actor=actor_of(officer),
                target=Target("dsr_export", str(export.id)),
            ),
            now=now,
        )
    return Generated(export, url, until)


async def delete_export(export: SubjectExport, now: datetime) -> None:
    """Remove the file and shred its key (retention, after its expiry)."""
    _path(export.id).unlink(missing_ok=True)
    await current_vault().keystore.shred(str(export.id))
    await SubjectExport.filter(id=export.id).update(deleted_at=now)
