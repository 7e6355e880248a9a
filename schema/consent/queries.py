"""Consent queries: the configured purposes, the report, and the person's own view."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import strawberry

from compliance.consent.links import InvalidLink as DomainInvalidLink
from compliance.consent.purposes import purposes as configured_purposes
from compliance.consent.report import consent_report
from leads import consent as service
from schema.consent.types import (
    ConsentReportRow,
    InvalidLink,
    PurposeInfo,
    SubjectConsent,
    SubjectPurpose,
)
from schema.leads.consent import ConsentStatus

SubjectConsentLookup = Annotated[
    SubjectConsent | InvalidLink, strawberry.union("SubjectConsentResult")
]


def subject_consent_of(view: service.SubjectConsentView) -> SubjectConsent:
    rows = []
    now = datetime.now(UTC)
    for purpose in view.purposes:
        state = view.states.get(purpose.name)
        rows.append(
            SubjectPurpose(
                purpose=PurposeInfo.of(purpose),
                status=ConsentStatus.of(state, now).status if state else None,
                since=state.since if state else None,
            )
        )
    return SubjectConsent(purposes=rows, link_expires_at=view.link_expires_at)


@strawberry.type
class ConsentQueries:
    @strawberry.field(description="Processing purposes with their basis and current notice.")
    async def purposes(self) -> list[PurposeInfo]:
        return [PurposeInfo.of(p) for p in configured_purposes()]

    @strawberry.field(description="Leads per purpose, basis, notice version and status.")
    async def consent_report(self) -> list[ConsentReportRow]:
        return [ConsentReportRow.of(row) for row in await consent_report()]

    @strawberry.field(description="The person's own view, through their signed link.")
    async def subject_consent(self, token: str) -> SubjectConsentLookup:
        try:
            view = await service.subject_view(token)
        except DomainInvalidLink as invalid:
            return InvalidLink(message=str(invalid))
        return subject_consent_of(view)
