"""A lead's consent as the ``Lead`` type shows it: where each purpose stands, the ledger
events with their evidence, and whether its scores may be used."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry
from graphql import GraphQLError

from compliance.access.decide import Subject
from compliance.consent.evidence import ConsentKind, ConsentSource, EvidenceMethod
from compliance.consent.ledger import open_evidence
from compliance.consent.models import ConsentEvent
from compliance.consent.purposes import LawfulBasis
from compliance.consent.state import CurrentConsent
from crypto.envelope import CiphertextError
from schema.access.extension import protected
from schema.context import Context


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
