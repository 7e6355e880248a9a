"""Access and portability exports: content, encryption at rest, signed links, audit."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from audit.models import AuditEvent
from compliance.dsr.models import DataSubjectRequest, RequestStatus, SubjectExport
from compliance.models import OutboxMessage
from compliance.outbox import open_message
from crypto.vault import current_vault
from identity import clock
from rights import export, fulfil
from rights.config import dsr_config
from rights.errors import RequestRefused
from tests.builders import FULL_LEAD_VALUES, STAGE_REASON, a_full_lead, a_lead
from tests.rights.helpers import NOW, a_verified_request, an_officer

EMAIL = "ada@example.com"


def link_parts(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    return parts.path.rsplit("/", 1)[1], query["expires"][0], query["signature"][0]


async def test_the_export_holds_everything_about_the_person_with_its_context() -> None:
    user, officer = await an_officer()
    lead = await a_full_lead(None, None, EMAIL)
    duplicate = await a_lead(email=EMAIL)
    await a_lead(email="someone@example.com")
    request = await a_verified_request(officer, user, kind="access")

    made = await export.generate(officer, request.id, "json", NOW)
    path, expires, signature = link_parts(made.url)
    got = await export.download(path, expires, signature, NOW + timedelta(minutes=1))

    document = json.loads(got.data)
    assert {s["lead_id"] for s in document["subjects"]} == {str(lead.id), str(duplicate.id)}
    full = next(s for s in document["subjects"] if s["lead_id"] == str(lead.id))
    assert full["profile"]["email"] == EMAIL
    assert full["profile"]["last_name"] == FULL_LEAD_VALUES["last_name"]
    assert full["activities"][0]["details"] == {"path": "/pricing"}
    assert [c["reason"] for c in full["stage_history"] if c["reason"]] == [STAGE_REASON]
    assert {c["purpose"] for c in full["consent_history"]} >= {"third_party_sharing"}
    assert "explanation" in full["score"]
    context = document["context"]
    assert {p["purpose"] for p in context["purposes"]} >= {"profiling", "email_marketing"}
    assert any(c["category"] == "contact" for c in context["categories"])
    assert any(r["category"] == "leads" for r in context["retention"])
    assert got.content_type == "application/json"


async def test_the_file_at_rest_is_encrypted_and_the_link_goes_to_the_requester() -> None:
    user, officer = await an_officer()
    await a_full_lead(None, None, EMAIL)
    request = await a_verified_request(officer, user, kind="portability")

    made = await export.generate(officer, request.id, "csv", NOW)

    stored = (dsr_config().export_dir / f"{made.export.id}.lvx").read_bytes()
    assert EMAIL.encode() not in stored
    assert FULL_LEAD_VALUES["last_name"].encode() not in stored
    message = await open_message(
        await OutboxMessage.get(lead_id=request.id, template="dsr_export_ready")
    )
    assert message is not None
    assert made.url in message.body
    assert made.link_expires_at == NOW + timedelta(hours=24)
    path, expires, signature = link_parts(made.url)
    got = await export.download(path, expires, signature, NOW)
    rows = list(csv.reader(io.StringIO(got.data.decode())))
    assert rows[0] == ["section", "lead_id", "item", "field", "value"]
    assert ["profile", "email", EMAIL] in [[r[0], r[3], r[4]] for r in rows]


@pytest.mark.parametrize("change", ["signature", "expires", "export"])
async def test_a_tampered_link_is_refused_and_audited(change: str) -> None:
    user, officer = await an_officer()
    await a_full_lead(None, None, EMAIL)
    request = await a_verified_request(officer, user, kind="access")
    made = await export.generate(officer, request.id, "json", NOW)
    path, expires, signature = link_parts(made.url)
    if change == "signature":
        signature = ("0" if signature[0] != "0" else "1") + signature[1:]
    elif change == "expires":
        expires = str(int(expires) + 86400)
    else:
        path = str(request.id)

    with pytest.raises(export.DownloadRefused):
        await export.download(path, expires, signature, NOW)

    refused = await AuditEvent.get(action="dsr.export.download_refused")
    assert refused.details["reason"] == "bad_signature"
    assert not await AuditEvent.filter(action="dsr.export.downloaded").exists()


async def test_an_expired_link_or_a_deleted_export_is_refused() -> None:
    user, officer = await an_officer()
    await a_full_lead(None, None, EMAIL)
    request = await a_verified_request(officer, user, kind="access")
    made = await export.generate(officer, request.id, "json", NOW)
    path, expires, signature = link_parts(made.url)

    with pytest.raises(export.DownloadRefused):
        await export.download(path, expires, signature, NOW + timedelta(hours=25))
    await export.delete_export(made.export, NOW)
    with pytest.raises(export.DownloadRefused):
        await export.download(path, expires, signature, NOW)

    reasons = [
        e.details["reason"]
        for e in await AuditEvent.filter(action="dsr.export.download_refused").order_by("seq")
    ]
    assert reasons == ["link_expired", "export_gone"]
    assert await current_vault().subject_keys([made.export.id]) == {}
    assert not (dsr_config().export_dir / f"{made.export.id}.lvx").exists()


async def test_downloads_are_served_over_http_and_counted(
    anonymous_client: httpx.AsyncClient,
) -> None:
    user, officer = await an_officer()
    await a_full_lead(None, None, EMAIL)
    request = await a_verified_request(officer, user, kind="access")
    made = await export.generate(officer, request.id, "json", clock.now())
    parts = urlsplit(made.url)

    response = await anonymous_client.get(f"{parts.path}?{parts.query}")
    refused = await anonymous_client.get(f"{parts.path}?expires=1&signature=00")

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert "attachment" in response.headers["content-disposition"]
    assert json.loads(response.content)["request"]["id"] == str(request.id)
    assert refused.status_code == 404
    assert (await SubjectExport.get(id=made.export.id)).downloads == 1
    assert await AuditEvent.filter(action="dsr.export.downloaded").count() == 1


async def test_only_access_and_portability_requests_are_exported() -> None:
    user, officer = await an_officer()
    request = await a_verified_request(officer, user, kind="erasure")

    with pytest.raises(RequestRefused):
        await export.generate(officer, request.id, "json", NOW)

    assert await SubjectExport.all().count() == 0


async def test_an_access_request_completes_only_after_its_export() -> None:
    user, officer = await an_officer()
    await a_full_lead(None, None, EMAIL)
    request = await a_verified_request(officer, user, kind="access")

    with pytest.raises(RequestRefused) as failure:
        await fulfil.complete(officer, request.id, NOW)
    await export.generate(officer, request.id, "json", NOW)
    done = await fulfil.complete(officer, request.id, NOW)

    assert failure.value.code == "no_export"
    assert done.status is RequestStatus.COMPLETED
    assert (await DataSubjectRequest.get(id=request.id)).completed_at == NOW


async def test_a_malformed_link_leaves_no_caller_text_in_the_audit_log() -> None:
    with pytest.raises(export.DownloadRefused):
        await export.download("ada@example.com", "1", "00", NOW)

    refused = await AuditEvent.get(action="dsr.export.download_refused")
    assert refused.target_id is None
    assert refused.details == {"reason": "malformed"}
