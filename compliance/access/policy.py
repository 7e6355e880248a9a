"""THE access policy. Every field of a personal-data type is listed here, either with the
rules each actor gets or as not sensitive; the field-access extension enforces what this
says and nothing else, and ``leadvault policy show`` prints it.

Product decisions, in short:
- a sales rep works the leads they own and sees everything about them; a manager, their
  team's leads; neither can load anyone else's;
- a marketer sees every lead's engagement, scores and company, names masked to an initial,
  the email masked unless the lead consented to email marketing, and no phone, job title,
  notes or stage-change reasons;
- an analyst sees non-personal fields only, with a pseudonymous id per lead;
- a compliance officer sees personal data only of the subjects of a data-subject request
  that the request declares as its purpose (and that is open and assigned to them);
- auditors and admins load no leads;
- an API key sees only the id of the lead it just captured;
- break-glass: a time-boxed grant (admin or sales manager, written reason, fresh TOTP
  code) reads every lead in full, and every use is recorded for auditors.
"""

from __future__ import annotations

from compliance.access.rules import (
    DENY,
    REVEAL,
    Actor,
    FieldPolicy,
    RowScope,
    for_purpose,
    mask,
    with_consent,
)
from compliance.consent.purposes import ANALYTICS, EMAIL_MARKETING
from identity.roles import Role

DSR = "data_subject_request"

ROW_SCOPES: dict[Actor, RowScope] = {
    Actor.SALES_REP: RowScope.OWN,
    Actor.SALES_MANAGER: RowScope.TEAM,
    Actor.MARKETER: RowScope.ALL,
    Actor.ANALYST: RowScope.ALL,
    Actor.COMPLIANCE_OFFICER: RowScope.PURPOSE,
    Actor.AUDITOR: RowScope.NONE,
    Actor.ADMIN: RowScope.NONE,
    Actor.API_KEY: RowScope.WRITTEN,
    Actor.BREAK_GLASS: RowScope.ALL,
}
"""Rows each actor may load. An API key loads none: it reaches one lead by id for a write
its scopes allow, and sees only what that write returns. Break-glass widens reads only,
never writes."""

WRITE_SCOPES: dict[Actor, RowScope] = {
    **ROW_SCOPES,
    Actor.API_KEY: RowScope.ALL,
    Actor.ANALYST: RowScope.NONE,
    Actor.COMPLIANCE_OFFICER: RowScope.NONE,
    Actor.BREAK_GLASS: RowScope.NONE,
}
"""Rows each actor may change (the operations themselves are listed in OPERATION_ROLES,
and an API key's in its scopes)."""

ROW_BASIS: dict[Actor, str] = {Actor.ANALYST: ANALYTICS}
"""Rows an actor loads only when the lead's consent state allows this purpose: analysts
work with the leads that have an analytics basis, so every count they see honours it."""

AGGREGATE_ONLY = frozenset({Actor.ANALYST})
"""Actors who see no personal data: aggregates they read (the funnel report) withhold
cells under five leads so no individual can be singled out."""

BREAK_GLASS_ROLES = frozenset({Role.ADMIN, Role.SALES_MANAGER})
BREAK_GLASS_MAX_MINUTES = 60

_WORKERS = {Actor.SALES_REP: REVEAL, Actor.SALES_MANAGER: REVEAL}
_DSR = {Actor.COMPLIANCE_OFFICER: for_purpose(DSR), Actor.BREAK_GLASS: REVEAL}


def _personal(category: str, **others: object) -> FieldPolicy:
    rules = {**_WORKERS, **_DSR}
    for name, rule in others.items():
        rules[Actor(name)] = rule  # type: ignore[assignment]
    return FieldPolicy(category, rules)


POLICY: dict[str, dict[str, FieldPolicy]] = {
    "Lead": {
        "id": _personal("identifier", marketer=REVEAL, analyst=mask("pseudonym"), api_key=REVEAL),
        "firstName": _personal("identity", marketer=mask("initial")),
        "lastName": _personal("identity", marketer=mask("initial")),
        "email": _personal(
            "contact", marketer=with_consent(EMAIL_MARKETING, otherwise_mask="email")
        ),
        "phone": _personal("contact", marketer=DENY),
        "jobTitle": _personal("employment"),
        "notes": _personal("free_text"),
        "companyName": _personal("employment", marketer=REVEAL),
        "companyDomain": _personal("employment", marketer=REVEAL),
        "consents": _personal("consent", marketer=REVEAL),
        "consentHistory": _personal("consent"),
    },
    "ConsentRecord": {
        "clientNetwork": FieldPolicy("evidence", dict(_DSR)),
        "note": _personal("free_text"),
    },
    "Activity": {
        "details": _personal("engagement", marketer=REVEAL),
    },
    "StageChange": {
        "reason": _personal("free_text"),
    },
}

NOT_SENSITIVE: dict[str, frozenset[str]] = {
    "Lead": frozenset(
        {
            "seniority",
            "country",
            "region",
            "companySize",
            "industry",
            "source",
            "channel",
            "utm",
            "bant",
            "stage",
            "status",
            "stageEnteredAt",
            "score",
            "fitScore",
            "engagementScore",
            "scoredAt",
            "scoreStatus",
            "scoreBreakdown",
            "scoreHistory",
            "dealValue",
            "wonAmount",
            "sqlAt",
            "firstTouchAt",
            "speedToLeadMinutes",
            "assignedAt",
            "assignmentReason",
            "tasks",
            "possibleDuplicates",  # its own rule: see leads/duplicates.py
            "createdAt",
            "updatedAt",
            "lastEngagedAt",
            "ownerId",
            "teamId",
            "campaignId",
            "owner",
            "team",
            "campaign",
            "activities",
            "stageHistory",
        }
    ),
    "Activity": frozenset({"id", "type", "occurredAt", "campaignId"}),
    "StageChange": frozenset({"id", "fromStage", "toStage", "changedAt", "changedById"}),
    "Utm": frozenset({"source", "medium", "campaign", "term", "content"}),
    "Bant": frozenset({"budget", "authority", "need", "timeline"}),
    "ConsentStatus": frozenset(
        {"purpose", "status", "basis", "noticeVersion", "source", "since", "expiresAt"}
    ),
    "ConsentRecord": frozenset(
        {
            "id",
            "purpose",
            "kind",
            "basis",
            "noticeVersion",
            "noticeHash",
            "source",
            "sourceRef",
            "method",
            "userAgentHash",
            "occurredAt",
            "recordedAt",
            "actorType",
            "actorId",
        }
    ),
}
"""Fields of personal-data types that say nothing about who the person is: stage, scores,
times, enums and references to staff, campaigns and teams."""

PERSONAL_DATA_TYPES = frozenset(POLICY) | frozenset(NOT_SENSITIVE)

_SCORING_EDITORS = frozenset({Role.SALES_MANAGER, Role.MARKETER, Role.ADMIN})

OPERATION_ROLES: dict[str, frozenset[Role]] = {
    "createLead": frozenset({Role.SALES_REP, Role.SALES_MANAGER, Role.MARKETER}),
    "updateLead": frozenset({Role.SALES_REP, Role.SALES_MANAGER}),
    "recordActivity": frozenset({Role.SALES_REP, Role.SALES_MANAGER, Role.MARKETER}),
    "changeStage": frozenset({Role.SALES_REP, Role.SALES_MANAGER}),
    "accessPolicy": frozenset({Role.AUDITOR, Role.ADMIN}),
    "breakGlassGrants": frozenset({Role.AUDITOR, Role.ADMIN}),
    "requestBreakGlass": BREAK_GLASS_ROLES,
    "endBreakGlass": BREAK_GLASS_ROLES,
    "auditEvents": frozenset({Role.AUDITOR}),
    "auditVerification": frozenset({Role.AUDITOR, Role.ADMIN}),
    "accessReport": frozenset({Role.AUDITOR, Role.COMPLIANCE_OFFICER}),
    "grantConsent": frozenset({Role.SALES_REP, Role.SALES_MANAGER, Role.MARKETER}),
    "withdrawConsent": frozenset({Role.SALES_REP, Role.SALES_MANAGER, Role.MARKETER}),
    "sendConsentLink": frozenset({Role.SALES_REP, Role.SALES_MANAGER, Role.MARKETER}),
    "consentReport": frozenset(
        {Role.MARKETER, Role.ANALYST, Role.COMPLIANCE_OFFICER, Role.AUDITOR, Role.ADMIN}
    ),
    "scoringDryRun": _SCORING_EDITORS,
    "createScoringDraft": _SCORING_EDITORS,
    "updateScoringDraft": _SCORING_EDITORS,
    "publishScoringModel": _SCORING_EDITORS,
    "funnel": frozenset({Role.SALES_REP, Role.SALES_MANAGER, Role.MARKETER, Role.ANALYST}),
    "tasks": frozenset({Role.SALES_REP, Role.SALES_MANAGER}),
    "completeTask": frozenset({Role.SALES_REP, Role.SALES_MANAGER}),
    "assignLead": frozenset({Role.SALES_MANAGER}),
    "resolvePossibleDuplicate": frozenset({Role.SALES_REP, Role.SALES_MANAGER}),
    **{
        name: frozenset({Role.COMPLIANCE_OFFICER})
        for name in (
            "dataSubjectRequests",
            "dataSubjectRequest",
            "legalHolds",
            "createDataSubjectRequest",
            "sendIdentityCode",
            "verifyIdentity",
            "assignDataSubjectRequest",
            "extendDataSubjectRequest",
            "rejectDataSubjectRequest",
            "generateSubjectExport",
            "rectifySubject",
            "completeDataSubjectRequest",
            "submitErasure",
            "approveErasure",
            "placeLegalHold",
            "releaseLegalHold",
        )
    },
    "recordOfProcessing": frozenset({Role.COMPLIANCE_OFFICER, Role.AUDITOR, Role.ADMIN}),
    "erasureCertificateKey": frozenset({Role.COMPLIANCE_OFFICER, Role.AUDITOR, Role.ADMIN}),
    "captureLead": frozenset(),
    "subjectConsent": frozenset(),
    "setSubjectConsent": frozenset(),
    "confirmConsent": frozenset(),
}
"""Staff roles allowed to call these root fields; the others are refused before anything
resolves. Root fields not listed are open to every signed-in member of staff (and decide
what to return by the row scope and the field rules above)."""


AUDIT_SUBJECT_SCOPES: dict[Actor, RowScope] = {
    Actor.AUDITOR: RowScope.ALL,
    Actor.COMPLIANCE_OFFICER: RowScope.PURPOSE,
}
"""Whose access report an actor may read: auditors anyone's, a compliance officer only
the subjects of the data-subject request they declare."""


def field_policy(type_name: str, field_name: str) -> FieldPolicy | None:
    return POLICY.get(type_name, {}).get(field_name)


def required_policy(type_name: str, field_name: str) -> FieldPolicy:
    found = field_policy(type_name, field_name)
    if found is None:
        raise KeyError(f"{type_name}.{field_name} is not in the access policy")
    return found
