"""Builders for data-subject request tests."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

from compliance.dsr.models import DataSubjectRequest
from compliance.models import OutboxMessage
from compliance.outbox import open_message
from identity.models import StaffUser
from identity.principal import Principal
from identity.roles import Role
from rights import erasure, requests, verification
from tests.builders import a_staff_user, principal_for

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def an_officer() -> tuple[StaffUser, Principal]:
    user = await a_staff_user(Role.COMPLIANCE_OFFICER)
    return user, principal_for(user, mfa_verified_at=NOW)


async def a_request(
    officer: Principal,
    kind: str = "erasure",
    email: str | None = "ada@example.com",
    phone: str | None = None,
    jurisdiction: str = "gdpr",
    now: datetime = NOW,
) -> DataSubjectRequest:
    return await requests.receive(
        officer,
        requests.NewRequest(kind=kind, jurisdiction=jurisdiction, email=email, phone=phone),
        now,
    )


async def sent_code(request_id: uuid.UUID) -> str:
    """The code in the newest identity message to the requester (as they would read it)."""
    row = (
        await OutboxMessage.filter(lead_id=request_id, template="dsr_identity_code")
        .order_by("-created_at")
        .first()
    )
    assert row is not None
    message = await open_message(row)
    assert message is not None
    found = re.search(r"\b(\d{6})\b", message.body)
    assert found is not None
    return found.group(1)


async def a_verified_request(
    officer: Principal, user: StaffUser, now: datetime = NOW, **values: str | None
) -> DataSubjectRequest:
    """A request received, verified by code and assigned to ``user``."""
    request = await a_request(officer, now=now, **values)  # type: ignore[arg-type]
    await verification.send_code(officer, request.id, now)
    await verification.verify_code(officer, request.id, await sent_code(request.id), now)
    return await requests.assign(officer, request.id, user.id, now)


async def an_approved_erasure(
    officer: Principal, user: StaffUser, now: datetime = NOW, **values: str | None
) -> DataSubjectRequest:
    request = await a_verified_request(officer, user, now, **values)
    await erasure.submit(officer, request.id, now)
    return await erasure.approve(officer, request.id, now + timedelta(minutes=1))
