"""Everything held about a data subject, as one JSON-ready document (GDPR Art. 15 and 20).

For each of the person's leads: the profile in clear, activities, consent history, the
current score with its explanation and the score history, stage history with reasons, open
and done follow-up tasks, and the access report (when their data was read or changed, by
which role, which fields, for what purpose; staff are named by role, not by person). Around
it, the context Art. 15 asks for: purposes and their lawful basis, categories of data,
recipients, retention periods, where the data came from, and the person's rights.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from tortoise.models import Model

from audit.queries import access_report
from compliance.consent.ledger import history, open_evidence
from compliance.consent.models import ConsentEvent
from compliance.consent.purposes import purposes
from compliance.dsr.models import DataSubjectRequest
from crypto.fields import personal_fields_of
from crypto.vault import current_vault
from leads.models import Activity, Lead, StageChange, Task
from leads.scoring.models import ScoreHistory
from rights.config import dsr_config
from rights.retention_policy import retention_policy

KIND = "leadvault.subject-access-export"
RIGHTS = (
    "rectification of inaccurate data",
    "erasure",
    "restriction of processing",
    "objection to processing, including profiling and direct marketing",
    "data portability",
    "withdrawal of consent at any time, without affecting earlier processing",
    "a complaint to a data-protection supervisory authority",
)
PROFILING = (
    "Leads are scored by published, explainable rules (company fit and engagement); a score "
    "decides which team follows up first and has no legal or similarly significant effect."
)


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def categories() -> list[dict[str, Any]]:
    found: dict[str, set[str]] = {}
    for model in (Lead, StageChange, ConsentEvent):
        for name, field in personal_fields_of(model).items():
            if field.subject_field is not None:
                found.setdefault(field.category, set()).add(f"{model._meta.db_table}.{name}")
    found.setdefault("engagement", set()).add("activity.details")
    found.setdefault("profiling", set()).update({"lead.score", "score_history.breakdown"})
    return [{"category": c, "fields": sorted(f)} for c, f in sorted(found.items())]


def context() -> dict[str, Any]:
    config = dsr_config()
    return {
        "controller": config.controller,
        "purposes": [
            {"purpose": p.name, "lawful_basis": p.basis.value, "description": p.description}
            for p in purposes()
        ],
        "categories": categories(),
        "recipients": list(config.recipients) or ["no recipients outside the controller"],
        "retention": retention_policy().describe(),
        "rights": list(RIGHTS),
        "automated_decision_making": PROFILING,
    }


def _clear(model: type[Model], row: Any, key: bytes | None) -> dict[str, str | None]:
    """The row's personal fields in clear."""
    vault = current_vault()
    return {
        name: vault.open_value(model, name, row.id, getattr(row, name), key)
        for name, field in personal_fields_of(model).items()
        if field.subject_field is not None
    }


async def _subject(lead: Lead, key: bytes | None, events: list[ConsentEvent]) -> dict[str, Any]:
    activities = await Activity.filter(lead_id=lead.id).order_by("occurred_at", "id")
    changes = await StageChange.filter(lead_id=lead.id).order_by("changed_at", "id")
    scores = await ScoreHistory.filter(lead_id=lead.id).order_by("id")
    tasks = await Task.filter(lead_id=lead.id).order_by("due_at")
    accesses = await access_report(lead.id)
    return {
        "lead_id": str(lead.id),
        "source": lead.source.value,
        "created_at": _when(lead.created_at),
        "profile": {
            **_clear(Lead, lead, key),
            "country": lead.country,
            "region": lead.region,
            "company_name": lead.company_name,
            "company_domain": lead.company_domain,
            "company_size": lead.company_size.value,
            "industry": lead.industry,
            "channel": lead.channel.value if lead.channel else None,
            "utm": {
                "source": lead.utm_source,
                "medium": lead.utm_medium,
                "campaign": lead.utm_campaign,
                "term": lead.utm_term,
                "content": lead.utm_content,
            },
            "stage": lead.stage.value,
            "status": lead.status.value,
        },
        "activities": [
            {"type": a.type.value, "occurred_at": _when(a.occurred_at), "details": a.details}
            for a in activities
        ],
        "consent_history": [
            {
                "purpose": e.purpose,
                "kind": e.kind,
                "basis": e.basis,
                "notice_version": e.notice_version,
                "source": e.source,
                "occurred_at": _when(e.occurred_at),
                **{f: open_evidence(e, f, key) for f in personal_fields_of(ConsentEvent)},
            }
            for e in events
        ],
        "score": {
            "score": lead.score,
            "fit": lead.fit_score,
            "engagement": lead.engagement_score,
            "model_version": lead.score_model_version,
            "explanation": lead.score_breakdown,
        },
        "score_history": [
            {
                "score": s.score,
                "model_version": s.model_version,
                "trigger": s.trigger,
                "computed_at": _when(s.computed_at),
                "explanation": s.breakdown,
            }
            for s in scores
        ],
        "stage_history": [
            {
                "from": c.from_stage.value if c.from_stage else None,
                "to": c.to_stage.value,
                "changed_at": _when(c.changed_at),
                **_clear(StageChange, c, key),
            }
            for c in changes
        ],
        "follow_up": [
            {"kind": t.kind.value, "due_at": _when(t.due_at), "done_at": _when(t.completed_at)}
            for t in tasks
        ],
        "access_log": [
            {
                "at": _when(e.occurred_at),
                "action": e.action,
                "by_role": e.actor_role or e.actor_type,
                "fields": e.fields_touched,
                "purpose": e.purpose,
            }
            for e in accesses
        ],
    }


async def build(
    request: DataSubjectRequest, lead_ids: list[uuid.UUID], now: datetime
) -> dict[str, Any]:
    leads = await Lead.filter(id__in=lead_ids).order_by("created_at", "id")
    keys = await current_vault().subject_keys([lead.id for lead in leads])
    consent = await history([lead.id for lead in leads])
    return {
        "kind": KIND,
        "version": 1,
        "generated_at": now.isoformat(),
        "request": {
            "id": str(request.id),
            "kind": request.kind.value,
            "jurisdiction": request.jurisdiction.value,
            "received_at": _when(request.received_at),
        },
        "context": context(),
        "subjects": [
            await _subject(lead, keys.get(lead.id), consent.get(lead.id, [])) for lead in leads
        ],
    }


def flatten(document: dict[str, Any]) -> list[tuple[str, str, int, str, str]]:
    """The document as rows (section, lead id, item number, field, value) for CSV."""
    rows: list[tuple[str, str, int, str, str]] = []

    def walk(section: str, lead_id: str, index: int, prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(section, lead_id, index, f"{prefix}.{key}" if prefix else key, inner)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for position, inner in enumerate(value):
                walk(section, lead_id, position, prefix, inner)
        elif isinstance(value, list):
            rows.append((section, lead_id, index, prefix, "; ".join(map(str, value))))
        else:
            rows.append((section, lead_id, index, prefix, "" if value is None else str(value)))

    walk("request", "", 0, "", document["request"])
    walk("context", "", 0, "", document["context"])
    for subject in document["subjects"]:
        lead_id = subject["lead_id"]
        for section, value in subject.items():
            if section == "lead_id":
                continue
            if isinstance(value, list):
                for position, item in enumerate(value):
                    walk(section, lead_id, position, "", item)
            else:
                walk(section, lead_id, 0, "" if isinstance(value, dict) else section, value)
    return rows
