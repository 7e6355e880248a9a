"""Compliance records: legal holds (place and release), retention (what a run now would
remove per category, and the last runs), the record of processing (read and download) and
the consent report. Holds and retention follow the request services' rule
(:func:`rights.officers.authorize`); the record and the report follow the API's
``recordOfProcessing`` and ``consentReport`` roles."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from compliance.categories import DataCategory
from compliance.consent.report import consent_report
from compliance.models import JobRun
from core.errors import NotFound, ValidationFailed
from identity import clock
from identity.models import StaffUser
from rights import holds, retention
from rights.officers import authorize
from rights.retention_policy import retention_policy
from rights.ropa import as_csv, record_of_processing
from server.console.pages import Console, Visit, field_errors, form_text

RECENT_RUNS = 10


def routes(console: Console) -> list[Route]:
    async def show_holds(
        visit: Visit, errors: dict[str, str] | None = None, given: dict[str, str] | None = None
    ) -> Response:
        assert visit.principal is not None
        listed = await holds.list_holds(visit.principal, clock.now(), active_only=False)
        staff = await StaffUser.filter(is_active=True).order_by("display_name")
        return console.render(
            visit,
            "holds.html",
            400 if errors else 200,
            holds=listed,
            staff=staff,
            categories=list(DataCategory),
            errors=errors or {},
            given=given or {},
            now=clock.now(),
        )

    async def holds_page(visit: Visit) -> Response:
        return await show_holds(visit)

    async def place(visit: Visit) -> Response:
        assert visit.principal is not None
        form = await visit.request.form()
        given = {
            name: form_text(form, name)
            for name in ("target", "lead_id", "category", "reason", "owner_id", "expires_on")
        }
        errors: dict[str, str] = {}
        lead_id = owner_id = None
        expires_at = None
        try:
            owner_id = uuid.UUID(given["owner_id"])
        except ValueError:
            errors["owner_id"] = "Choose who owns the hold."
        if given["target"] == "lead":
            try:
                lead_id = uuid.UUID(given["lead_id"])
            except ValueError:
                errors["lead_id"] = "Enter the lead's id, such as 0192f1c4-…"
        if given["expires_on"]:
            try:
                expires_at = datetime.fromisoformat(given["expires_on"]).replace(tzinfo=UTC)
            except ValueError:
                errors["expires_on"] = "Enter a date, such as 2027-06-30."
        if not errors and owner_id is not None:
            try:
                await holds.place(
                    visit.principal,
                    reason=given["reason"],
                    owner_id=owner_id,
                    lead_id=lead_id,
                    category=given["category"] if given["target"] == "category" else None,
                    expires_at=expires_at,
                    now=clock.now(),
                )
            except ValidationFailed as failure:
                errors = field_errors(failure)
            else:
                return RedirectResponse("/console/holds", 303)
        return await show_holds(visit, errors, given)

    async def release(visit: Visit) -> Response:
        assert visit.principal is not None
        try:
            hold_id = uuid.UUID(visit.request.path_params["hold_id"])
            await holds.release(visit.principal, hold_id, clock.now())
        except (ValueError, NotFound):
            return console.render(visit, "not_found.html", 404, what="legal hold")
        except ValidationFailed as failure:
            return await show_holds(visit, field_errors(failure))
        return RedirectResponse("/console/holds", 303)

    async def retention_page(visit: Visit) -> Response:
        assert visit.principal is not None
        authorize(visit.principal)
        now = clock.now()
        preview = await retention.plan(retention_policy(), now)
        runs = await JobRun.filter(job=retention.JOB).order_by("-started_at").limit(RECENT_RUNS)
        return console.render(
            visit,
            "retention.html",
            preview=preview,
            categories=list(DataCategory),
            runs=runs,
            policy=retention_policy(),
        )

    async def ropa_page(visit: Visit) -> Response:
        record = record_of_processing(clock.now())
        return console.render(visit, "ropa.html", record=record)

    async def ropa_file(visit: Visit) -> Response:
        record = record_of_processing(clock.now())
        chosen = visit.request.path_params["format"]
        if chosen not in ("json", "csv"):
            return console.render(visit, "not_found.html", 404, what="format")
        as_json = chosen == "json"
        body = json.dumps(record, indent=2) if as_json else as_csv(record)
        name = f"record-of-processing.{'json' if as_json else 'csv'}"
        return Response(
            body,
            media_type="application/json" if as_json else "text/csv",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )

    async def consent_page(visit: Visit) -> Response:
        rows = await consent_report(clock.now())
        return console.render(visit, "consent_report.html", rows=rows)

    page = console.service_page
    return [
        Route("/holds", page(holds_page), methods=["GET"]),
        Route("/holds", page(place), methods=["POST"]),
        Route("/holds/{hold_id}/release", page(release), methods=["POST"]),
        Route("/retention", page(retention_page), methods=["GET"]),
        Route(
            "/record-of-processing",
            console.page("recordOfProcessing", ropa_page),
            methods=["GET"],
        ),
        Route(
            "/record-of-processing.{format:str}",
            console.page("recordOfProcessing", ropa_file),
            methods=["GET"],
        ),
        Route("/consent-report", console.page("consentReport", consent_page), methods=["GET"]),
    ]
