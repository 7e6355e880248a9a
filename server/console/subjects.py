"""A request's leads, as its assigned officer may see them while it is open: read through
the API's own schema in this process, with the purpose ``data_subject_request:<id>``
declared, so the row scope, the field rules for that purpose and the ``lead.read`` audit
event are exactly the API's. A purpose the officer may not act under (the request closed,
or assigned to someone else) shows nothing."""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from compliance.access import grants
from compliance.access.purpose import PurposeRefused
from identity import clock
from identity.authenticate import RequestAuth
from schema import LeadVaultSchema
from schema.context import Context
from schema.limits.config import QueryLimits
from server.console.compliance import request_id_of
from server.console.pages import Console, Visit

FIELDS = "id firstName lastName email phone jobTitle companyName country stage createdAt"
SHOWN = (
    ("firstName", "First name"),
    ("lastName", "Last name"),
    ("email", "Email"),
    ("phone", "Phone"),
    ("jobTitle", "Job title"),
    ("companyName", "Company"),
    ("country", "Country"),
    ("stage", "Stage"),
    ("createdAt", "Created"),
)


def routes(console: Console, schema: LeadVaultSchema, limits: QueryLimits) -> list[Route]:
    async def leads_page(visit: Visit) -> Response:
        assert visit.principal is not None
        request_id = request_id_of(visit)
        if request_id is None:
            return console.render(visit, "not_found.html", 404, what="data-subject request")
        declared = f"data_subject_request:{request_id}"
        try:
            principal = await grants.for_request(visit.principal, declared, clock.now())
        except PurposeRefused:
            return console.render(
                visit, "subject_leads.html", 403, request_id=request_id, refused=True, leads=[]
            )
        ids = sorted(str(i) for i in principal.purpose_subjects)
        leads: list[dict[str, Any]] = []
        if ids:
            variables = ", ".join(f"$i{n}: ID!" for n in range(len(ids)))
            aliases = " ".join(f"l{n}: lead(id: $i{n}) {{ {FIELDS} }}" for n in range(len(ids)))
            auth = dataclasses.replace(visit.auth, principal=principal)
            result = await schema.execute(
                f"query SubjectLeads({variables}) {{ {aliases} }}",
                variable_values={f"i{n}": i for n, i in enumerate(ids)},
                context_value=_context(visit, auth, limits, console),
                operation_name="SubjectLeads",
            )
            data = result.data or {}
            leads = [data[f"l{n}"] for n in range(len(ids)) if data.get(f"l{n}")]
        return console.render(
            visit,
            "subject_leads.html",
            request_id=request_id,
            refused=False,
            leads=leads,
            shown=SHOWN,
        )

    return [
        Route(
            "/requests/{request_id}/leads",
            console.page("dataSubjectRequest", leads_page),
            methods=["GET"],
        )
    ]


def _context(visit: Visit, auth: RequestAuth, limits: QueryLimits, console: Console) -> Context:
    return Context(request=visit.request, auth=auth, limits=limits, auth_policy=console.policy)
