"""Bulk CSV import of leads with per-row consent.

Columns: lead fields by their snake_case names (``email``, ``phone``, ``first_name``,
``last_name``, ``job_title``, ``company_name``, ``company_domain``, ``company_size``,
``seniority``, ``country``, ``region``, ``industry``, ``notes``), one ``consent_<purpose>``
column per purpose answered (``yes``/``no``; blank: not asked), and optionally
``consent_at`` (when the person answered, ISO 8601 with a zone).

The whole file is validated first; every problem is reported with its line number. Then,
unless ``partial`` is set, either every row is written in one transaction or nothing is.
Rows with the same email (or, without one, phone) are merged by blind index: within the file
later rows fill in what earlier ones left blank and their consent answers win; a row
matching a lead already stored fills that lead's blanks and adds its consent to the ledger.
A contact on the suppression list is refused unless its row grants consent.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

from tortoise.transactions import in_transaction

from audit.events import Actor, Event, Outcome, record_many
from compliance.consent import ledger, suppression
from compliance.consent.evidence import ConsentSource, Evidence
from compliance.consent.purposes import LawfulBasis, purposes
from compliance.events.emit import emit
from core.bulk import insert_dicts
from core.errors import ValidationFailed
from core.ids import new_id
from crypto.blind_index import IndexKind
from crypto.vault import current_vault
from leads.contacts import index_rows, seal_lead
from leads.enums import CompanySize, Seniority, Source, Stage
from leads.events import created_with
from leads.models import ContactIndex, Lead, StageChange
from leads.validation import clean_lead_fields

LEAD_COLUMNS = (
    "email",
    "phone",
    "first_name",
    "last_name",
    "job_title",
    "company_name",
    "company_domain",
    "company_size",
    "seniority",
    "country",
    "region",
    "industry",
    "notes",
)
ENUM_COLUMNS: dict[str, type] = {"company_size": CompanySize, "seniority": Seniority}
CONSENT_PREFIX = "consent_"
YES, NO = {"yes", "y", "true", "1", "granted"}, {"no", "n", "false", "0", "withdrawn"}
BATCH = 1000


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    field: str
    code: str
    message: str


@dataclass(slots=True)
class _Row:
    line: int
    values: dict[str, Any]
    consents: dict[str, bool]
    consent_at: datetime | None
    merged_lines: list[int] = field(default_factory=list)
    digest: str | None = None
    existing_id: uuid.UUID | None = None
    suppressed: bool = False


@dataclass(slots=True)
class ImportReport:
    rows: int = 0
    created: int = 0
    merged_in_file: list[tuple[int, int]] = field(default_factory=list)
    """(line, line it was merged into)."""
    merged_existing: list[tuple[int, str]] = field(default_factory=list)
    """(line, id of the stored lead it was merged into)."""
    errors: list[RowError] = field(default_factory=list)
    written: bool = False
    consent_events: int = 0

    @property
    def refused_rows(self) -> int:
        return len({e.line for e in self.errors})


def _consent_columns(header: list[str]) -> tuple[dict[str, str], list[RowError]]:
    columns, errors = {}, []
    for name in header:
        if name in LEAD_COLUMNS or name == "consent_at":
            continue
        if name.startswith(CONSENT_PREFIX) and name[len(CONSENT_PREFIX) :] in purposes():
            columns[name] = name[len(CONSENT_PREFIX) :]
        else:
            errors.append(RowError(1, name, "unknown_column", f"{name} is not a known column"))
    return columns, errors


def _parse_row(line: int, raw: dict[str, str], consent_columns: dict[str, str]) -> _Row:
    values: dict[str, Any] = {"source": Source.IMPORT}
    errors: list[RowError] = []
    for name in LEAD_COLUMNS:
        value = (raw.get(name) or "").strip()
        if not value:
            continue
        if name in ENUM_COLUMNS:
            try:
                values[name] = ENUM_COLUMNS[name](value.lower())
            except ValueError:
                errors.append(RowError(line, name, "invalid_choice", f"{name} is not a choice"))
            continue
        values[name] = value
    try:
        values = clean_lead_fields(values, creating=True)
    except ValidationFailed as failure:
        errors.extend(RowError(line, e.field, e.code, e.message) for e in failure.errors)
    consents: dict[str, bool] = {}
    for column, purpose in consent_columns.items():
        answer = (raw.get(column) or "").strip().lower()
        if answer in YES:
            consents[purpose] = True
        elif answer in NO:
            consents[purpose] = False
        elif answer:
            errors.append(RowError(line, column, "invalid_consent", f"{column} must be yes or no"))
    consent_at = None
    if (raw.get("consent_at") or "").strip():
        try:
            consent_at = datetime.fromisoformat(raw["consent_at"].strip())
            if consent_at.tzinfo is None or consent_at > datetime.now(UTC):
                raise ValueError
        except ValueError:
            errors.append(
                RowError(line, "consent_at", "invalid_time", "consent_at needs a zone, past")
            )
    if errors:
        raise _RowInvalid(errors)
    return _Row(line, values, consents, consent_at)


class _RowInvalid(Exception):
    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} errors")
        self.errors = errors


def _merge(into: _Row, row: _Row) -> None:
    for name, value in row.values.items():
        if into.values.get(name) in (None, ""):
            into.values[name] = value
    into.consents.update(row.consents)
    into.consent_at = row.consent_at or into.consent_at
    into.merged_lines.append(row.line)


def _digest_of(values: dict[str, Any]) -> str | None:
    indexer = current_vault().indexer
    for name, kind in (("email", IndexKind.EMAIL), ("phone", IndexKind.PHONE)):
        if values.get(name):
            return indexer.digest(kind, values[name])
    return None


async def _existing(digests: list[str]) -> dict[str, uuid.UUID]:
    found: dict[str, uuid.UUID] = {}
    for start in range(0, len(digests), 500):
        chunk = digests[start : start + 500]
        for digest, lead_id in await ContactIndex.filter(digest__in=chunk).values_list(
            "digest", "lead_id"
        ):
            found.setdefault(
                str(digest), lead_id if isinstance(lead_id, uuid.UUID) else uuid.UUID(str(lead_id))
            )
    return found


def _grants_consent(row: _Row) -> bool:
    return any(
        granted and (p := purposes().get(name)) is not None and p.basis is LawfulBasis.CONSENT
        for name, granted in row.consents.items()
    )


async def validate(source: TextIO, report: ImportReport) -> list[_Row]:
    """Parse, validate and de-duplicate every row; errors go to the report."""
    reader = csv.DictReader(source)
    header = list(reader.fieldnames or [])
    consent_columns, header_errors = _consent_columns(header)
    report.errors.extend(header_errors)
    if header_errors:
        return []
    by_digest: dict[str, _Row] = {}
    rows: list[_Row] = []
    for number, raw in enumerate(reader, start=2):
        report.rows += 1
        try:
            row = _parse_row(number, raw, consent_columns)
        except _RowInvalid as invalid:
            report.errors.extend(invalid.errors)
            continue
        row.digest = _digest_of(row.values)
        if row.digest is not None and row.digest in by_digest:
            first = by_digest[row.digest]
            _merge(first, row)
            report.merged_in_file.append((row.line, first.line))
            continue
        if row.digest is not None:
            by_digest[row.digest] = row
        rows.append(row)
    suppressed = await suppression.suppressed_digests(by_digest)
    existing = await _existing(list(by_digest))
    kept = []
    for row in rows:
        if row.digest in suppressed:
            if not _grants_consent(row):
                report.errors.append(
                    RowError(row.line, "email", "suppressed", "erased contact; needs fresh consent")
                )
                continue
            row.suppressed = True
        row.existing_id = existing.get(row.digest or "")
        if row.existing_id is not None:
            report.merged_existing.append((row.line, str(row.existing_id)))
        kept.append(row)
    return kept


def _changes(row: _Row, new: bool) -> list[ledger.ConsentChange]:
    answered = [ledger.ConsentChange(p, granted) for p, granted in row.consents.items()]
    return [*answered, *ledger.basis_changes(row.consents)] if new else answered


async def import_csv(
    source: TextIO,
    actor: Actor,
    *,
    partial: bool = False,
    import_id: str | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ImportReport:
    report = ImportReport()
    rows = await validate(source, report)
    if report.errors and not partial:
        return report
    reference = import_id or f"import-{uuid.uuid4().hex[:12]}"
    now = datetime.now(UTC)
    new_rows = [r for r in rows if r.existing_id is None]
    ids = [new_id() for _ in new_rows]
    vault = current_vault()
    keys = await vault.subject_keys(ids, create=True)
    try:
        async with in_transaction("default"):
            for start in range(0, len(new_rows), BATCH):
                chunk = list(
                    zip(ids[start : start + BATCH], new_rows[start : start + BATCH], strict=True)
                )
                report.consent_events += await _write_new(chunk, keys, actor, now, reference)
                report.created += len(chunk)
                if on_progress is not None:
                    on_progress(len(chunk))
            for row in (r for r in rows if r.existing_id is not None):
                report.consent_events += await _merge_existing(row, actor, now, reference)
                if on_progress is not None:
                    on_progress(1)
            lifted = [r for r in rows if r.suppressed]
            for row in lifted:
                await suppression.lift(suppression.contacts_of(row.values))
            if lifted:
                await record_many(
                    [
                        Event(
                            action="consent.suppression.lifted",
                            outcome=Outcome.SUCCESS,
                            actor=actor,
                            details={"reason": "fresh_consent", "rows": len(lifted)},
                        )
                    ],
                    now=now,
                )
    except BaseException:
        await vault.keystore.shred_many(str(lead_id) for lead_id in ids)
        raise
    report.written = True
    return report


async def _write_new(
    chunk: list[tuple[uuid.UUID, _Row]],
    keys: dict[uuid.UUID, bytes],
    actor: Actor,
    now: datetime,
    reference: str,
) -> int:
    leads: list[dict[str, Any]] = []
    indexes: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    consents = []
    for lead_id, row in chunk:
        key = keys[lead_id]
        leads.append(
            {
                **seal_lead(lead_id, key, row.values),
                "id": lead_id,
                "stage": Stage.LEAD,
                "stage_entered_at": now,
                "created_at": now,
                "updated_at": now,
            }
        )
        indexes.extend(
            {"lead_id": i.lead_id, "kind": i.kind, "key_version": i.key_version, "digest": i.digest}
            for i in index_rows(lead_id, row.values)
        )
        changes.append(
            {"id": new_id(), "lead_id": lead_id, "to_stage": Stage.LEAD, "changed_at": now}
        )
        consents.append(
            ledger.NewLeadConsent(
                lead_id,
                key,
                _changes(row, new=True),
                Evidence(ConsentSource.IMPORT, occurred_at=row.consent_at, source_ref=reference),
            )
        )
    await insert_dicts(Lead, leads)
    await insert_dicts(ContactIndex, indexes)
    await insert_dicts(StageChange, changes)
    written = await ledger.append_for_new_leads(consents, actor, now)
    await emit(
        [created_with(lead_id, Stage.LEAD, row.values.get("source")) for lead_id, row in chunk],
        now,
    )
    await record_many(
        [
            Event(
                action="lead.imported",
                outcome=Outcome.SUCCESS,
                actor=actor,
                subject_ids=tuple(str(lead_id) for lead_id, _ in chunk),
                details={"rows": len(chunk), "import": reference},
            )
        ],
        now=now,
    )
    return written


async def _merge_existing(row: _Row, actor: Actor, now: datetime, reference: str) -> int:
    """Fill the stored lead's blanks (never overwrite) and add the row's consent."""
    assert row.existing_id is not None
    lead = await Lead.filter(id=row.existing_id).select_for_update().first()
    key = (await current_vault().subject_keys([row.existing_id])).get(row.existing_id)
    if lead is None or key is None:
        return 0
    blanks = {
        name: value
        for name, value in row.values.items()
        if name != "source" and getattr(lead, name) in (None, "") and value is not None
    }
    if blanks:
        lead.update_from_dict({**seal_lead(lead.id, key, blanks), "updated_at": now})
        await lead.save(update_fields=[*blanks, "updated_at"])
        await ContactIndex.bulk_create(
            index_rows(lead.id, {k: v for k, v in blanks.items() if k in ("email", "phone")})
        )
    events = await ledger.append(
        lead.id,
        _changes(row, new=False),
        Evidence(ConsentSource.IMPORT, occurred_at=row.consent_at, source_ref=reference),
        actor,
        key=key,
        now=now,
    )
    await record_many(
        [
            Event(
                action="lead.import.merged",
                outcome=Outcome.SUCCESS,
                actor=actor,
                subject_ids=(str(lead.id),),
                fields=tuple(sorted(blanks)),
                details={"import": reference},
            )
        ],
        now=now,
    )
    return len(events)


def count_rows(lines: Iterable[str]) -> int:
    return max(sum(1 for _ in lines) - 1, 0)
