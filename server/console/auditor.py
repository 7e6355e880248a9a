"""Auditor pages: search the audit log (the ``auditEvents`` rules and query), read one event,
verify the chain and its signed checkpoints (``auditVerification``) and download the
checkpoints with their public keys for checking offline, the per-subject access report
(``accessReport``, audited as through the API), an export of the log as JSONL or CSV
(audited ``audit.exported``) and the access-policy matrix (``accessPolicy``)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import QueryParams
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from audit import export, queries
from audit.events import Event, Outcome, Target, record
from audit.models import AuditCheckpoint, AuditEvent
from audit.signing import public_keys
from audit.verify import verify
from compliance.access import matrix
from compliance.scopes import may_read_subject_audit
from core.cursors import InvalidCursor
from crypto.signing import public_hex
from identity.events import actor_of
from server.console.pages import Console, Visit

PAGE_SIZE = 50
RECENT_CHECKPOINTS = 20
OUTCOMES = ("success", "failure", "denied")
FILTERS = ("actor", "role", "action", "subject", "outcome", "since", "until")


def _moment(value: str, field: str, errors: dict[str, str]) -> datetime | None:
    """A ``datetime-local`` value (read as UTC) or an ISO 8601 time with its zone."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        errors[field] = "Enter a date and time, such as 2026-12-01T09:30."
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def event_filter(params: QueryParams) -> tuple[queries.EventFilter, dict[str, str], dict[str, str]]:
    """The search form's values, the filter they make, and an error per bad field."""
    given = {name: params.get(name, "").strip() for name in FILTERS}
    errors: dict[str, str] = {}
    if given["outcome"] and given["outcome"] not in OUTCOMES:
        errors["outcome"] = "Choose success, failure or denied."
    chosen = queries.EventFilter(
        actor_id=given["actor"] or None,
        role=given["role"] or None,
        action=(given["action"] + "*") if given["action"] else None,
        subject_id=given["subject"] or None,
        outcome=given["outcome"] if "outcome" not in errors and given["outcome"] else None,
        since=_moment(given["since"], "since", errors),
        until=_moment(given["until"], "until", errors),
    )
    return chosen, given, errors


def routes(console: Console) -> list[Route]:
    async def search(visit: Visit) -> Response:
        assert visit.principal is not None
        chosen, given, errors = event_filter(visit.request.query_params)
        after = visit.request.query_params.get("after") or None
        rows: list[AuditEvent] = []
        next_cursor = None
        if not errors:
            try:
                page = await queries.page(chosen, PAGE_SIZE, after, visit.principal.cursor_binding)
            except InvalidCursor:
                errors["after"] = "This page link is not valid here; start from the first page."
            else:
                rows = list(page.items)
                next_cursor = page.cursors[-1] if page.has_next_page else None
        status = 400 if errors else 200
        return console.render(
            visit,
            "audit_events.html",
            status,
            rows=rows,
            given=given,
            errors=errors,
            outcomes=OUTCOMES,
            next_query=_query(given, next_cursor) if next_cursor else None,
            paged=after is not None,
        )

    async def event(visit: Visit) -> Response:
        seq = visit.request.path_params["seq"]
        row = await AuditEvent.get_or_none(seq=seq)
        if row is None:
            return console.render(visit, "not_found.html", 404, what="audit event")
        return console.render(
            visit,
            "audit_event.html",
            row=row,
            details=json.dumps(row.details, indent=2, sort_keys=True),
        )

    async def verification(visit: Visit) -> Response:
        result = await verify() if visit.request.method == "POST" else None
        recent = await AuditCheckpoint.all().order_by("-seq").limit(RECENT_CHECKPOINTS)
        keys = {v: public_hex(k) for v, k in (await public_keys()).items()}
        return console.render(
            visit,
            "audit_verify.html",
            result=result,
            checkpoints=[(c, keys.get(c.key_version)) for c in recent],
            total=await AuditCheckpoint.all().count(),
        )

    async def checkpoints(_: Visit) -> Response:
        body = json.dumps({"checkpoints": await export.checkpoints()}, indent=2)
        return Response(
            body,
            media_type="application/json",
            headers={"content-disposition": 'attachment; filename="audit-checkpoints.json"'},
        )

    async def subject_report(visit: Visit) -> Response:
        assert visit.principal is not None
        given = visit.request.query_params.get("subject", "").strip()
        rows: list[AuditEvent] | None = None
        errors: dict[str, str] = {}
        if given:
            try:
                subject = uuid.UUID(given)
            except ValueError:
                errors["subject"] = "Enter a lead id, such as 0192f1c4-7a4e-7c1d-9a7e-3f0b5c2d1e8a."
            else:
                rows = []
                if may_read_subject_audit(visit.principal, subject):
                    rows = await queries.access_report(subject)
                    await record(
                        Event(
                            action="audit.access_report.read",
                            outcome=Outcome.SUCCESS,
                            actor=actor_of(visit.principal),
                            target=Target("lead", str(subject)),
                            purpose=visit.principal.purpose,
                            details={"entries": len(rows)},
                        )
                    )
        return console.render(
            visit, "access_report.html", 400 if errors else 200, given=given, rows=rows,
            errors=errors,
        )  # fmt: skip

    async def export_file(visit: Visit) -> Response:
        assert visit.principal is not None
        chosen = visit.request.path_params["format"]
        if chosen not in ("jsonl", "csv"):
            return console.render(visit, "not_found.html", 404, what="format")
        since_text = visit.request.query_params.get("since", "")
        errors: dict[str, str] = {}
        since = _moment(since_text, "since", errors)
        if errors:
            return console.render(visit, "audit_export.html", 400, errors=errors)
        through = await export.head_seq()
        total = await export.count(since, through)
        await record(
            Event(
                action="audit.exported",
                outcome=Outcome.SUCCESS,
                actor=actor_of(visit.principal),
                details={
                    "events": total,
                    "format": chosen,
                    "since": since_text[:32],
                    "through_seq": through,
                },
            )
        )

        async def lines() -> AsyncIterator[str]:
            if chosen == "csv":
                yield export.csv_header()
            async for row in export.rows(since, through):
                yield export.jsonl(row) if chosen == "jsonl" else export.csv_line(row)

        return StreamingResponse(
            lines(),
            media_type="application/x-ndjson" if chosen == "jsonl" else "text/csv",
            headers={"content-disposition": f'attachment; filename="audit-events.{chosen}"'},
        )

    async def export_page(visit: Visit) -> Response:
        return console.render(visit, "audit_export.html", errors={})

    async def policy(visit: Visit) -> Response:
        return console.render(visit, "policy.html", matrix=matrix.build())

    return [
        Route("/audit/subjects", console.page("accessReport", subject_report), methods=["GET"]),
        Route("/audit/export", console.page("auditEvents", export_page), methods=["GET"]),
        Route(
            "/audit/events.{format:str}",
            console.page("auditEvents", export_file),
            methods=["GET"],
        ),
        Route("/policy", console.page("accessPolicy", policy), methods=["GET"]),
        Route("/audit", console.page("auditEvents", search), methods=["GET"]),
        Route("/audit/events/{seq:int}", console.page("auditEvents", event), methods=["GET"]),
        Route(
            "/audit/verify",
            console.page("auditVerification", verification),
            methods=["GET", "POST"],
        ),
        Route(
            "/audit/checkpoints.json",
            console.page("auditVerification", checkpoints),
            methods=["GET"],
        ),
    ]


def _query(given: dict[str, Any], after: str) -> str:
    from urllib.parse import urlencode

    return urlencode({**{k: v for k, v in given.items() if v}, "after": after})
