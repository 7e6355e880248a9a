"""CSV import: line-numbered errors, all or nothing, merges by blind index, consent per row,
the suppression list."""

from __future__ import annotations

import io

from audit.events import Actor
from compliance.consent import suppression
from compliance.consent.models import ConsentEvent, ConsentState
from compliance.consent.purposes import EMAIL_MARKETING
from crypto.blind_index import IndexKind
from leads.importer import import_csv
from leads.models import Lead
from tests.builders import a_lead, clear_value

HEADER = "email,first_name,last_name,company_name,consent_email_marketing,consent_at\n"


async def _import(text: str, *, partial: bool = False):  # type: ignore[no-untyped-def]
    return await import_csv(io.StringIO(text), Actor.operator(), partial=partial)


async def test_every_bad_row_is_reported_by_line_and_nothing_is_written() -> None:
    report = await _import(
        HEADER
        + "ok@example.com,Ok,,Acme,yes,2026-02-01T09:00:00+00:00\n"
        + "not-an-email,Bad,,,yes,\n"
        + "also@example.com,Also,,,perhaps,\n"
    )

    assert not report.written
    assert {(e.line, e.field) for e in report.errors} == {
        (3, "email"),
        (4, "consent_email_marketing"),
    }
    assert await Lead.all().count() == 0
    assert await ConsentEvent.all().count() == 0


async def test_partial_writes_the_valid_rows_with_their_consent_and_evidence_time() -> None:
    report = await _import(
        HEADER + "ok@example.com,Ok,,Acme,yes,2026-02-01T09:00:00+00:00\nbad,Bad,,,yes,\n",
        partial=True,
    )

    assert report.written
    assert report.created == 1
    assert report.refused_rows == 1
    lead = await Lead.get()
    assert await clear_value(lead, "email") == "ok@example.com"
    state = await ConsentState.get(lead_id=lead.id, purpose=EMAIL_MARKETING)
    assert (state.status, state.source) == ("granted", "import")
    assert state.since.isoformat() == "2026-02-01T09:00:00+00:00"


async def test_duplicates_merge_within_the_file_and_into_stored_leads_without_overwriting() -> None:
    stored = await a_lead(email="known@example.com", first_name="Kept", last_name=None)

    report = await _import(
        HEADER
        + "new@example.com,New,,,yes,\n"
        + "NEW@example.com,,Later,Beta,no,\n"
        + "known@example.com,Changed,Filled,,yes,\n"
    )

    assert report.merged_in_file == [(3, 2)]
    assert report.merged_existing == [(4, str(stored.id))]
    assert await Lead.all().count() == 2
    new = await Lead.exclude(id=stored.id).get()
    assert await clear_value(new, "last_name") == "Later"
    assert (await ConsentState.get(lead_id=new.id, purpose=EMAIL_MARKETING)).status == "withdrawn"
    known = await Lead.get(id=stored.id)
    assert await clear_value(known, "first_name") == "Kept"
    assert await clear_value(known, "last_name") == "Filled"
    assert (await ConsentState.get(lead_id=stored.id, purpose=EMAIL_MARKETING)).status == "granted"


async def test_an_erased_contact_is_refused_unless_its_row_grants_consent() -> None:
    await suppression.suppress({IndexKind.EMAIL: "gone@example.com"}, "erasure")
    await suppression.suppress({IndexKind.EMAIL: "back@example.com"}, "erasure")

    report = await _import(
        HEADER + "gone@example.com,,,,,\nback@example.com,,,,yes,\n", partial=True
    )

    assert [(e.line, e.code) for e in report.errors] == [(2, "suppressed")]
    assert report.created == 1
    assert await suppression.is_suppressed({IndexKind.EMAIL: "gone@example.com"})
    assert not await suppression.is_suppressed({IndexKind.EMAIL: "back@example.com"})


async def test_an_unknown_column_refuses_the_file() -> None:
    report = await _import("email,shoe_size\nx@example.com,42\n")

    assert [(e.line, e.field, e.code) for e in report.errors] == [
        (1, "shoe_size", "unknown_column")
    ]
    assert not report.written
