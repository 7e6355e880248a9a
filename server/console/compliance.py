"""Compliance officer pages: the request queue, intake of a new request, and a request's
detail with its timeline and the requester's contact revealed on request (audited). The
rules are the request services' own (:func:`rights.officers.authorize`)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlencode

from starlette.datastructures import QueryParams
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from audit.models import AuditEvent
from compliance.dsr.models import (
    DataSubjectRequest,
    Jurisdiction,
    RejectionReason,
    RequestKind,
    RequestStatus,
)
from core.cursors import InvalidCursor
from core.errors import NotFound, ValidationFailed
from identity import clock
from identity.models import StaffUser
from identity.roles import Role
from rights import certificate, queue, requests, subjects
from rights.fulfil import RECTIFIABLE
from rights.intake import CHANNELS, NewRequest
from rights.officers import authorize
from server.console.pages import Console, Visit, field_errors, form_text

PAGE_SIZE = 50
ALERTS = {"due_soon": "Due within 7 days (or overdue)", "overdue": "Overdue"}
TIMELINE_LIMIT = 200


E = TypeVar("E", RequestStatus, RequestKind, Jurisdiction)


def _choice(value: str, kind: type[E]) -> E | None:
    try:
        return kind(value) if value else None
    except ValueError:
        return None


def queue_filter(params: QueryParams) -> tuple[queue.QueueFilter, dict[str, str], dict[str, str]]:
    given = {
        name: params.get(name, "").strip()
        for name in ("status", "kind", "jurisdiction", "alert", "unverified")
    }
    errors: dict[str, str] = {}
    status = _choice(given["status"], RequestStatus)
    kind = _choice(given["kind"], RequestKind)
    jurisdiction = _choice(given["jurisdiction"], Jurisdiction)
    for name, parsed in (("status", status), ("kind", kind), ("jurisdiction", jurisdiction)):
        if given[name] and parsed is None:
            errors[name] = f"Choose a {name} from the list."
    if given["alert"] and given["alert"] not in ALERTS:
        errors["alert"] = "Choose an alert from the list."
    chosen = queue.QueueFilter(
        status=status,
        kind=kind,
        jurisdiction=jurisdiction,
        alert=given["alert"] if given["alert"] in ALERTS else None,
        include_unverified=given["unverified"] == "1",
    )
    return chosen, given, errors


def request_id_of(visit: Visit) -> uuid.UUID | None:
    try:
        return uuid.UUID(visit.request.path_params["request_id"])
    except ValueError:
        return None


async def request_of(visit: Visit) -> DataSubjectRequest | None:
    """The request the page is about, through the request services (None if no such)."""
    assert visit.principal is not None
    request_id = request_id_of(visit)
    if request_id is None:
        return None
    try:
        return await requests.get(visit.principal, request_id)
    except NotFound:
        return None


NOTICES = {
    "code_sent": "A new identity code was sent to the requester.",
    "verified": "The requester's identity is verified; their leads are linked.",
    "assigned": "The request is assigned.",
    "extended": "The deadline is extended and the requester told why.",
    "rejected": "The request is rejected and the requester told why.",
    "submitted": "The erasure waits for approval.",
    "approved": "The erasure is approved and has run.",
    "rectified": "The lead is corrected.",
    "unchanged": "The lead already held those values; nothing changed.",
    "completed": "The request is answered and closed.",
}


async def show_request(
    console: Console,
    visit: Visit,
    *,
    requester: requests.Requester | None = None,
    errors: dict[str, str] | None = None,
    export_link: str | None = None,
) -> Response:
    """A request's page: its facts and deadline, its timeline, and the forms for what can
    be done with it now."""
    found = await request_of(visit)
    if found is None:
        return console.render(visit, "not_found.html", 404, what="data-subject request")
    now = clock.now()
    timeline = (
        await AuditEvent.filter(target_type="data_subject_request", target_id=str(found.id))
        .order_by("seq")
        .limit(TIMELINE_LIMIT)
    )
    officers = await StaffUser.filter(role=Role.COMPLIANCE_OFFICER, is_active=True).order_by(
        "display_name"
    )
    leads = (
        await subjects.subject_ids(found.id)
        if found.kind is RequestKind.RECTIFICATION and found.status in requests.WORKING
        else []
    )
    verdict = None
    if found.certificate:
        verdict = certificate.verify(
            json.loads(found.certificate), await certificate.public_key_hex()
        )
    return console.render(
        visit,
        "dsr_detail.html",
        400 if errors else 200,
        request=found,
        days_left=queue.days_left(found.due_at, now),
        alert=requests.alert_of(found, now),
        timeline=timeline,
        requester=requester,
        errors=errors or {},
        notice=NOTICES.get(visit.request.query_params.get("done", "")),
        officers=officers,
        reasons=list(RejectionReason),
        verdict=verdict,
        export_link=export_link,
        leads=leads,
        rectifiable=sorted(RECTIFIABLE),
        open=found.status in requests.OPEN,
        working=found.status in requests.WORKING,
    )


def routes(console: Console) -> list[Route]:
    def choices() -> dict[str, Any]:
        return {
            "statuses": list(RequestStatus),
            "kinds": list(RequestKind),
            "jurisdictions": list(Jurisdiction),
            "alerts": ALERTS,
            "channels": sorted(CHANNELS),
        }

    async def queue_page(visit: Visit) -> Response:
        assert visit.principal is not None
        chosen, given, errors = queue_filter(visit.request.query_params)
        after = visit.request.query_params.get("after") or None
        entries: list[queue.QueueEntry] = []
        next_query = None
        if not errors:
            try:
                page = await queue.queue_page(
                    visit.principal,
                    chosen,
                    clock.now(),
                    PAGE_SIZE,
                    after,
                    visit.principal.cursor_binding,
                )
            except InvalidCursor:
                errors["after"] = "This page link is not valid here; start from the first page."
            else:
                entries = list(page.items)
                if page.has_next_page:
                    kept = {k: v for k, v in given.items() if v}
                    next_query = urlencode({**kept, "after": page.cursors[-1]})
        return console.render(
            visit,
            "dsr_queue.html",
            400 if errors else 200,
            entries=entries,
            given=given,
            errors=errors,
            next_query=next_query,
            paged=after is not None,
            **choices(),
        )

    async def intake(visit: Visit) -> Response:
        assert visit.principal is not None
        authorize(visit.principal)  # the form is for those who may log a request
        if visit.request.method == "GET":
            return console.render(visit, "dsr_new.html", given={}, errors={}, **choices())
        form = await visit.request.form()
        given = {
            name: form_text(form, name)
            for name in ("kind", "jurisdiction", "channel", "email", "phone", "details", "received")
        }
        errors: dict[str, str] = {}
        received = None
        if given["received"]:
            try:
                received = datetime.fromisoformat(given["received"]).replace(tzinfo=UTC)
            except ValueError:
                errors["received"] = "Enter the date and time it was received, in UTC."
        if not errors:
            try:
                created = await requests.receive(
                    visit.principal,
                    NewRequest(
                        kind=given["kind"],
                        jurisdiction=given["jurisdiction"],
                        email=given["email"] or None,
                        phone=given["phone"] or None,
                        details=given["details"] or None,
                        channel=given["channel"] or "email",
                        received_at=received,
                    ),
                    clock.now(),
                )
            except ValidationFailed as failure:
                errors = field_errors(failure)
            else:
                return RedirectResponse(f"/console/requests/{created.id}", 303)
        return console.render(visit, "dsr_new.html", 400, given=given, errors=errors, **choices())

    async def detail(visit: Visit) -> Response:
        return await show_request(console, visit)

    async def reveal(visit: Visit) -> Response:
        assert visit.principal is not None
        request_id = request_id_of(visit)
        if request_id is None:
            return console.render(visit, "not_found.html", 404, what="data-subject request")
        try:
            found = await requests.requester_of(visit.principal, request_id, clock.now())
        except NotFound:
            return console.render(visit, "not_found.html", 404, what="data-subject request")
        return await show_request(console, visit, requester=found)

    page = console.service_page
    return [
        Route("/requests", page(queue_page), methods=["GET"]),
        Route("/requests/new", page(intake), methods=["GET", "POST"]),
        Route("/requests/{request_id}", page(detail), methods=["GET"]),
        Route("/requests/{request_id}/requester", page(reveal), methods=["POST"]),
    ]
