"""Proving the requester is the person: a one-time code sent to the email (or phone) the
request came with, read back to an officer.

The code is six random digits, kept only as an HMAC bound to the request, compared in
constant time, valid for a limited time and a limited number of attempts (failed attempts
are counted with a conditional update, so parallel guesses cannot exceed the limit). A new
code replaces the old one. Once verified, the request is linked to every lead with the same
email or phone (see :mod:`rights.subjects`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import datetime

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from audit.events import Outcome, record
from compliance.dsr.models import DataSubjectRequest, RequestStatus
from crypto.vault import current_vault
from rights.config import dsr_config
from rights.errors import CodeRejected
from rights.officers import Officer, actor_of
from rights.requests import locked, notify_requester, request_event, require_status, save
from rights.subjects import link_subjects

CODE_PURPOSE = "dsr-identity-code"
_SENDABLE = frozenset({RequestStatus.RECEIVED, RequestStatus.IDENTITY_PENDING})


def code_digest(request_id: uuid.UUID, code: str) -> str:
    key = current_vault().keyring.derive(CODE_PURPOSE)
    return hmac.new(key, f"{request_id}:{code}".encode(), hashlib.sha256).hexdigest()


def new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


async def send_code(officer: Officer, request_id: uuid.UUID, now: datetime) -> datetime:
    """Send a fresh code (replacing any earlier one); the message also acknowledges receipt.
    Returns when the code expires."""
    config = dsr_config()
    code = new_code()
    async with in_transaction("default"):
        request = await locked(officer, request_id)
        require_status(request, _SENDABLE)
        expires = now + config.code_lifetime
        minutes = int(config.code_lifetime.total_seconds() // 60)
        await notify_requester(
            request,
            "dsr_identity_code",
            "We received your request about your personal data. To confirm it is you, "
            f"give this code to our privacy team: {code}. It expires in {minutes} minutes.",
            now,
        )
        request.code_hash = code_digest(request.id, code)
        request.code_sent_at, request.code_expires_at, request.code_attempts = now, expires, 0
        request.status = RequestStatus.IDENTITY_PENDING
        names = ["code_hash", "code_sent_at", "code_expires_at", "code_attempts", "status"]
        if request.acknowledged_at is None:
            request.acknowledged_at = now
            names.append("acknowledged_at")
        await save(request, now, *names)
        await record(
            request_event("dsr.identity.code_sent", actor_of(officer), request),
            now=now,
        )
    return expires


async def _refuse(
    officer: Officer, request: DataSubjectRequest, reason: str, now: datetime
) -> CodeRejected:
    await record(
        request_event(
            "dsr.identity.failed",
            actor_of(officer),
            request,
            outcome=Outcome.FAILURE,
            details={"reason": reason},
        ),
        now=now,
    )
    remaining = max(dsr_config().code_attempts - request.code_attempts, 0)
    return CodeRejected(reason, 0 if reason != "wrong_code" else remaining)


async def verify_code(
    officer: Officer, request_id: uuid.UUID, code: str, now: datetime
) -> DataSubjectRequest:
    """Check the code the person read back; on success the request is verified and linked
    to the person's leads. A failure is recorded and counted (committed even though the
    call raises)."""
    limit = dsr_config().code_attempts
    async with in_transaction("default"):
        request = await locked(officer, request_id)
        require_status(request, frozenset({RequestStatus.IDENTITY_PENDING}))
        failure: CodeRejected | None = None
        if request.code_hash is None or request.code_attempts >= limit:
            failure = await _refuse(officer, request, "attempts_used", now)
        elif request.code_expires_at is None or now > request.code_expires_at:
            failure = await _refuse(officer, request, "expired", now)
        else:
            counted = await DataSubjectRequest.filter(
                id=request.id, code_attempts__lt=limit
            ).update(code_attempts=F("code_attempts") + 1)
            request.code_attempts += 1
            offered = code_digest(request.id, code.strip())
            if not counted or not hmac.compare_digest(offered, request.code_hash):
                failure = await _refuse(officer, request, "wrong_code", now)
        if failure is None:
            request.status, request.verified_at, request.verified_by = (
                RequestStatus.VERIFIED
                if request.assigned_to_id is None
                else RequestStatus.IN_PROGRESS,
                now,
                "code",
            )
            request.code_hash = None
            await save(request, now, "status", "verified_at", "verified_by", "code_hash")
            found = await link_subjects(request)
            await record(
                request_event(
                    "dsr.identity.verified",
                    actor_of(officer),
                    request,
                    details={"subjects": found},
                ),
                now=now,
            )
    if failure is not None:
        raise failure
    return request
