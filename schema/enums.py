"""GraphQL enums, registered on the domain's own enums (one vocabulary everywhere).

``strawberry.enum`` marks the class in place, so the names exported here are the domain
classes themselves and type-check as such.
"""

from __future__ import annotations

import strawberry

from compliance.consent.evidence import ConsentKind, ConsentSource, EvidenceMethod
from compliance.consent.purposes import LawfulBasis
from compliance.dsr.models import Jurisdiction, RequestKind, RequestStatus
from compliance.events.types import DeliveryStatus as WebhookDeliveryStatus
from compliance.events.types import EventType as WebhookEventType
from core.cursors import SortDirection
from identity.roles import Role as StaffRole
from identity.scopes import ApiScope
from leads.enums import (
    ActivityType,
    Authority,
    Budget,
    Channel,
    CompanySize,
    Need,
    Seniority,
    Source,
    Stage,
    Status,
    Timeline,
)
from leads.repository import LeadOrderField

for _enum, _name in (
    (ConsentKind, "ConsentKind"),
    (ConsentSource, "ConsentSource"),
    (EvidenceMethod, "EvidenceMethod"),
    (LawfulBasis, "LawfulBasis"),
    (Stage, "Stage"),
    (Status, "LeadStatus"),
    (Seniority, "Seniority"),
    (CompanySize, "CompanySize"),
    (Source, "LeadSource"),
    (Channel, "Channel"),
    (Budget, "Budget"),
    (Authority, "Authority"),
    (Need, "Need"),
    (Timeline, "Timeline"),
    (ActivityType, "ActivityType"),
    (StaffRole, "StaffRole"),
    (ApiScope, "ApiScope"),
    (LeadOrderField, "LeadOrderField"),
    (SortDirection, "SortDirection"),
    (RequestStatus, "DataSubjectRequestStatus"),
    (RequestKind, "DataSubjectRequestKind"),
    (Jurisdiction, "Jurisdiction"),
    (WebhookEventType, "WebhookEventType"),
    (WebhookDeliveryStatus, "WebhookDeliveryStatus"),
):
    strawberry.enum(_enum, name=_name)

LeadOrderFieldEnum = LeadOrderField
SortDirectionEnum = SortDirection

__all__ = [
    "ActivityType",
    "ApiScope",
    "Authority",
    "Budget",
    "Channel",
    "CompanySize",
    "Jurisdiction",
    "LeadOrderFieldEnum",
    "Need",
    "RequestKind",
    "RequestStatus",
    "Seniority",
    "SortDirectionEnum",
    "Source",
    "StaffRole",
    "Stage",
    "Status",
    "Timeline",
    "WebhookDeliveryStatus",
    "WebhookEventType",
]
