"""GraphQL types of consent."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry
from graphql import GraphQLError

from compliance.access.decide import Subject
from compliance.consent.evidence import ConsentKind, ConsentSource, EvidenceMethod
from compliance.consent.ledger import open_evidence
from compliance.consent.models import ConsentEvent
from compliance.consent.purposes import LawfulBasis, Purpose
from compliance.consent.report import ReportRow
from compliance.consent.state import CurrentConsent
from crypto.envelope import CiphertextError
from schema.access.extension import protected
from schema.context import Context

for _enum, _name in (
    (ConsentKind, "ConsentKind"),
    (ConsentSource, "ConsentSource"),
    (EvidenceMethod, "EvidenceMethod"),
    (LawfulBasis, "LawfulBasis"),
):
    strawberry.enum(_enum, name=_name)


@strawberry.enum(description="Whether a lead's stored scores may be used and shown.")
class ScoreStatus(enum.Enum):
    SCORED = "scored"
    NOT_SCORED_NO_BASIS = "not scored: no basis"


@strawberry.type(description="Where one purpose stands for a lead: the ledger's latest word.")
class ConsentStatus:
    purpose: str
    status: ConsentKind = strawberry.field(
        description="GRANTED also means a legitimate-interest basis is recorded; WITHDRAWN "
        "also means the person objected. A grant past expiresAt reads EXPIRED."
    )
    basis: LawfulBasis
    notice_version: str | None
    source: ConsentSource
    since: datetime
    expires_at: datetime | None

    @classmethod
    def of(cls, state: CurrentConsent, now: datetime) -> ConsentStatus:
        lapsed = state.status is ConsentKind.GRANTED and not state.allows(now)
        return cls(
            purpose=state.purpose,
            status=ConsentKind.EXPIRED if lapsed else state.status,
            basis=state.basis,
            notice_version=state.notice_version,
            source=state.source,
            since=state.since,
            expires_at=state.expires_at,
        )


@strawberry.type(description="One event of the consent ledger, with its evidence.")
class ConsentRecord:
    id: strawberry.ID
    purpose: str
    kind: ConsentKind
    basis: LawfulBasis
    notice_version: str | None
    notice_hash: str | None = strawberry.field(
        description="SHA-256 of the notice text the person was shown."
    )
    source: ConsentSource
    source_ref: str | None
    method: EvidenceMethod | None
    user_agent_hash: str | None
    occurred_at: datetime
    recorded_at: datetime
    actor_type: str
    actor_id: str | None
    _row: strawberry.Private[ConsentEvent]
    _subject: strawberry.Private[Subject]

    def access_subject(self) -> Subject:
        return self._subject

    async def _open(self, info: strawberry.Info[Context], field: str) -> str | None:
        if getattr(self._row, field) is None:
            return None
        key = await info.context.loaders.subject_keys.load(self._row.lead_id)
        try:
            return open_evidence(self._row, field, key)
        except CiphertextError as error:
            raise GraphQLError(str(error), extensions={"code": "DATA_INTEGRITY"}) from None

    @protected(description="The network the submission came from (IPv4 /24, IPv6 /48).")
    async def client_network(self, info: strawberry.Info[Context]) -> str | None:
        return await self._open(info, "client_network")

    @protected(description="Staff's note on how consent was obtained.")
    async def note(self, info: strawberry.Info[Context]) -> str | None:
        return await self._open(info, "note")

    @classmethod
    def of(cls, row: ConsentEvent, subject: Subject) -> ConsentRecord:
        return cls(
            id=strawberry.ID(str(row.id)),
            purpose=row.purpose,
            kind=ConsentKind(row.kind),
            basis=LawfulBasis(row.basis),
            notice_version=row.notice_version,
            notice_hash=row.notice_hash,
            source=ConsentSource(row.source),
            source_ref=row.source_ref,
            method=EvidenceMethod(row.method) if row.method else None,
            user_agent_hash=row.user_agent_hash,
            occurred_at=row.occurred_at,
            recorded_at=row.recorded_at,
            actor_type=row.actor_type,
            actor_id=row.actor_id,
            _row=row,
            _subject=subject,
        )


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
