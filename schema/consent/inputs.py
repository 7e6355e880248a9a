"""GraphQL inputs of consent and capture."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from compliance.consent.evidence import EvidenceMethod
from compliance.consent.ledger import ConsentChange
from leads.consent import StaffEvidence
from schema.enums import ActivityType
from schema.leads.inputs import LeadInput


@strawberry.input(description="One purpose as the person answered it on the form.")
class ConsentInput:
    purpose: str
    granted: bool
    notice_version: str | None = strawberry.field(
        default=None, description="The notice the person was shown; defaults to the current."
    )

    def to_domain(self) -> ConsentChange:
        return ConsentChange(self.purpose, self.granted, self.notice_version)


@strawberry.input(description="How a member of staff obtained what they record.")
class ConsentEvidenceInput:
    method: EvidenceMethod
    note: str | None = None
    reference: str | None = strawberry.field(
        default=None, description="A ticket or document id, never a personal value."
    )
    occurred_at: datetime | None = strawberry.field(
        default=None, description="When the person said so; defaults to now."
    )

    def to_domain(self) -> StaffEvidence:
        return StaffEvidence(self.method, self.note, self.reference, self.occurred_at)


@strawberry.input(description="A form submission or lead-generation record.")
class CaptureLeadInput:
    lead: LeadInput
    consents: list[ConsentInput] = strawberry.field(default_factory=list)
    form_id: str | None = None
    activity_type: ActivityType = ActivityType.FORM_SUBMIT
    activity_details: JSON | None = strawberry.field(
        default=None, description="Flat object of non-personal scalars."
    )
