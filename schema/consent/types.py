"""GraphQL types of consent purposes, the self-service page and the consent report. A lead's
own consent (its status per purpose and its ledger events) is in ``schema.leads.consent``."""

from __future__ import annotations

from datetime import datetime

import strawberry

from compliance.consent.evidence import ConsentKind
from compliance.consent.purposes import LawfulBasis, Purpose
from compliance.consent.report import ReportRow


@strawberry.type(description="A processing purpose and the notice currently shown for it.")
class PurposeInfo:
    name: str
    basis: LawfulBasis
    description: str
    notice_version: str
    notice_text: str
    notice_hash: str
    double_opt_in: bool
    expires_after_days: int | None

    @classmethod
    def of(cls, purpose: Purpose) -> PurposeInfo:
        return cls(
            name=purpose.name,
            basis=purpose.basis,
            description=purpose.description,
            notice_version=purpose.notice.version,
            notice_text=purpose.notice.text,
            notice_hash=purpose.notice.digest,
            double_opt_in=purpose.double_opt_in,
            expires_after_days=purpose.expires_after_days,
        )


@strawberry.type(description="One purpose as the person sees it on their own page.")
class SubjectPurpose:
    purpose: PurposeInfo
    status: ConsentKind | None = strawberry.field(description="Null: nothing recorded yet.")
    since: datetime | None


@strawberry.type(description="What a person has agreed to, seen through their own link.")
class SubjectConsent:
    purposes: list[SubjectPurpose]
    link_expires_at: datetime


@strawberry.type(description="The link is not valid, has expired, or was already used.")
class InvalidLink:
    message: str


@strawberry.type(description="Leads per purpose, basis, notice version and status.")
class ConsentReportRow:
    purpose: str
    basis: LawfulBasis
    notice_version: str | None
    status: ConsentKind
    leads: int

    @classmethod
    def of(cls, row: ReportRow) -> ConsentReportRow:
        return cls(
            purpose=row.purpose,
            basis=LawfulBasis(row.basis),
            notice_version=row.notice_version,
            status=ConsentKind(row.status),
            leads=row.leads,
        )
