"""The consent ledger: append-only, state derived from it, evidence kept as little as
proves the point, purposes from configuration."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

from audit.events import Actor
from audit.models import AuditEvent
from compliance.consent import ledger
from compliance.consent import state as consent_state
from compliance.consent.evidence import ConsentKind, ConsentSource, Evidence
from compliance.consent.ledger import ConsentChange
from compliance.consent.models import ConsentEvent, ConsentState, LedgerIsAppendOnly
from compliance.consent.purposes import (
    EMAIL_MARKETING,
    PROFILING,
    PurposeConfigError,
    Purposes,
    purposes,
)
from core.errors import ValidationFailed
from leads.consent_jobs import run_consent_job
from tests.builders import BASE_TIME, a_lead, clear_value

EVIDENCE = Evidence(
    source=ConsentSource.FORM,
    source_ref="newsletter-footer",
    client_address="198.51.100.23",
    user_agent="Mozilla/5.0 (X11; Linux x86_64)",
)


async def _key(lead_id: object) -> bytes:
    from crypto.vault import current_vault

    return (await current_vault().subject_keys([lead_id]))[lead_id]  # type: ignore[index]


async def _append(lead_id: object, *changes: ConsentChange, when=BASE_TIME) -> list[ConsentEvent]:  # type: ignore[no-untyped-def]
    async with in_transaction("default"):
        return await ledger.append(
            lead_id,  # type: ignore[arg-type]
            list(changes),
            EVIDENCE,
            Actor.operator(),
            key=await _key(lead_id),
            now=when,
        )


async def test_a_saved_consent_event_cannot_be_changed_or_deleted_by_the_code() -> None:
    lead = await a_lead(bases=False)
    (event,) = await _append(lead.id, ConsentChange(EMAIL_MARKETING, granted=True))

    event.kind = ConsentKind.WITHDRAWN.value
    with pytest.raises(LedgerIsAppendOnly):
        await event.save()
    with pytest.raises(LedgerIsAppendOnly):
        await event.delete()

    stored = await ConsentEvent.get(id=event.id)
    assert stored.kind == ConsentKind.GRANTED.value


async def test_the_database_refuses_an_update_of_a_consent_event() -> None:
    lead = await a_lead(bases=False)
    (event,) = await _append(lead.id, ConsentChange(EMAIL_MARKETING, granted=True))

    with pytest.raises(Exception, match="append-only"):
        await connections.get("default").execute_script(
            f"UPDATE consent_event SET kind = 'withdrawn' WHERE id = {event.id}"
        )

    assert (await ConsentEvent.get(id=event.id)).kind == ConsentKind.GRANTED.value


async def test_the_state_is_the_latest_event_and_rebuilding_it_gives_the_same_rows() -> None:
    first, second = await a_lead(bases=False), await a_lead(bases=False)
    await _append(first.id, ConsentChange(EMAIL_MARKETING, granted=True))
    await _append(
        first.id, ConsentChange(EMAIL_MARKETING, granted=False), when=BASE_TIME + timedelta(1)
    )
    await _append(second.id, ConsentChange(PROFILING, granted=True))
    before = await _states()

    async with in_transaction("default"):
        rebuilt = await consent_state.rebuild_state()

    assert rebuilt == 2
    assert await _states() == before
    assert before[(str(first.id), EMAIL_MARKETING)] == "withdrawn"
    assert before[(str(second.id), PROFILING)] == "granted"
    assert await consent_state.consented_ids([first.id, second.id], EMAIL_MARKETING) == set()
    assert await consent_state.consented_ids([first.id, second.id], PROFILING) == {second.id}


async def _states() -> dict[tuple[str, str], str]:
    return {(str(s.lead_id), s.purpose): s.status for s in await ConsentState.all()}


async def test_a_withdrawal_of_what_is_already_withdrawn_adds_no_event() -> None:
    lead = await a_lead(bases=False)
    await _append(lead.id, ConsentChange(EMAIL_MARKETING, granted=False))

    again = await _append(lead.id, ConsentChange(EMAIL_MARKETING, granted=False))

    assert again == []
    assert await ConsentEvent.filter(lead_id=lead.id).count() == 1


async def test_every_grant_stores_the_notice_version_and_the_hash_of_its_text() -> None:
    lead = await a_lead(bases=False)

    (event,) = await _append(lead.id, ConsentChange(EMAIL_MARKETING, granted=True))

    notice = purposes().get(EMAIL_MARKETING).notice  # type: ignore[union-attr]
    assert event.notice_version == notice.version
    import hashlib

    assert event.notice_hash == hashlib.sha256(notice.text.encode()).hexdigest()
    assert event.basis == "consent"


async def test_unknown_purposes_and_notice_versions_are_refused_and_nothing_is_written() -> None:
    lead = await a_lead(bases=False)

    with pytest.raises(ValidationFailed) as failure:
        await _append(
            lead.id,
            ConsentChange(EMAIL_MARKETING, granted=True, notice_version="1999-01"),
            ConsentChange("telepathy", granted=True),
        )

    assert {e.field for e in failure.value.errors} == {
        "consents.noticeVersion",
        "consents.purpose",
    }
    assert await ConsentEvent.filter(lead_id=lead.id).count() == 0


async def test_evidence_keeps_the_network_sealed_and_the_user_agent_only_as_a_keyed_hash() -> None:
    lead = await a_lead(bases=False)
    (event,) = await _append(lead.id, ConsentChange(EMAIL_MARKETING, granted=True))

    row = await connections.get("default").execute_query_dict(
        "SELECT * FROM consent_event WHERE id = " + str(event.id)
    )
    raw = json.dumps(row[0], default=lambda v: v.hex() if isinstance(v, bytes) else str(v))
    assert "198.51.100" not in raw
    assert "Mozilla" not in raw
    assert event.user_agent_hash is not None
    assert len(event.user_agent_hash) == 64
    from crypto.vault import current_vault

    opened = current_vault().open_value(
        ConsentEvent, "client_network", event.uid, event.client_network, await _key(lead.id)
    )
    assert opened == "198.51.100.0/24"


async def test_each_event_leaves_an_audit_event_with_the_purpose_and_no_evidence() -> None:
    lead = await a_lead(bases=False)

    await _append(lead.id, ConsentChange(EMAIL_MARKETING, granted=True))

    audit = await AuditEvent.get(action="consent.granted")
    assert audit.target_id == str(lead.id)
    assert audit.details["purpose"] == EMAIL_MARKETING
    assert "198.51" not in json.dumps(audit.details)


async def test_a_lapsed_grant_stops_allowing_at_once_and_the_job_writes_its_expiry() -> None:
    lead = await a_lead(bases=False, email="lapsed@example.com")
    granted_at = BASE_TIME
    await _append(lead.id, ConsentChange(EMAIL_MARKETING, granted=True), when=granted_at)
    days = purposes().get(EMAIL_MARKETING).expires_after_days  # type: ignore[union-attr]
    after = granted_at + timedelta(days=days + 1)  # type: ignore[operator]

    assert await consent_state.allowing(EMAIL_MARKETING, granted_at).count() == 1
    assert await consent_state.allowing(EMAIL_MARKETING, after).count() == 0
    dry = await run_consent_job(Actor.operator(), after, dry_run=True)
    report = await run_consent_job(Actor.operator(), after)
    again = await run_consent_job(Actor.operator(), after)

    assert dry.expired == report.expired == 1
    assert again.expired == 0
    kinds = [e.kind for e in await ConsentEvent.filter(lead_id=lead.id).order_by("id")]
    assert kinds == ["granted", "expired"]
    assert await clear_value(lead, "email") == "lapsed@example.com"


def _write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "purposes.json"
    path.write_text(json.dumps(document))
    return path


def test_a_purposes_file_replaces_the_defaults(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        {
            "purposes": [
                {
                    "name": "webinars",
                    "basis": "consent",
                    "notices": [{"version": "a", "text": "old"}, {"version": "b", "text": "new"}],
                    "expires_after_days": 365,
                    "double_opt_in": True,
                }
            ]
        },
    )

    loaded = Purposes.from_file(path)

    webinars = loaded.get("webinars")
    assert webinars is not None
    assert webinars.notice.version == "b"
    assert webinars.notice_version("a") is not None
    assert webinars.double_opt_in
    assert loaded.names == ("webinars",)


@pytest.mark.parametrize(
    ("entry", "names"),
    [
        ({"name": "x y", "basis": "consent", "notices": [{"version": "1", "text": "t"}]}, "name"),
        ({"name": "x", "basis": "vibes", "notices": [{"version": "1", "text": "t"}]}, "basis"),
        ({"name": "x", "basis": "consent", "notices": []}, "notices"),
        (
            {
                "name": "x",
                "basis": "legitimate_interest",
                "notices": [{"version": "1", "text": "t"}],
                "expires_after_days": 10,
            },
            "expires_after_days",
        ),
    ],
)
def test_a_bad_purposes_file_is_refused_naming_the_entry(
    tmp_path: Path, entry: dict[str, object], names: str
) -> None:
    with pytest.raises(PurposeConfigError, match=rf"purposes\[0\]\.{names}"):
        Purposes.from_file(_write(tmp_path, {"purposes": [entry]}))
