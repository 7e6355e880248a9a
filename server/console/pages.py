"""Rendering console pages: Jinja2 templates (autoescaped), one stylesheet, no script.

The pages are plain HTML forms that work without JavaScript: nothing to vendor, nothing
inline, and a content policy that allows this origin's stylesheet, images from this origin
or ``data:`` (the enrolment QR code) and form posts back to this origin, and nothing else.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from audit.events import Event, Outcome, record
from compliance.access.policy import OPERATION_ROLES
from core.errors import ValidationFailed
from core.request_context import bind_interface
from identity.authenticate import AuthStage, RequestAuth
from identity.errors import Forbidden
from identity.events import actor_of
from identity.policy import AuthPolicy
from identity.principal import Principal
from identity.roles import Role
from server.console.session import CSRF_FIELD, Cookies, console_auth, csrf_matches, csrf_token

HERE = Path(__file__).resolve().parent
SIGN_IN = "/console/sign-in"
PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
ADMINISTRATION = frozenset({Role.ADMIN})
"""Who the account and key services admit (:func:`identity.admin.authorize`, which decides;
this only chooses the menu)."""
SECTIONS: tuple[tuple[frozenset[Role], str, str], ...] = (
    (OPERATION_ROLES["dataSubjectRequests"], "/console/requests", "Requests"),
    (OPERATION_ROLES["createDataSubjectRequest"], "/console/requests/new", "New request"),
    (OPERATION_ROLES["legalHolds"], "/console/holds", "Legal holds"),
    (OPERATION_ROLES["legalHolds"], "/console/retention", "Retention"),
    (OPERATION_ROLES["recordOfProcessing"], "/console/record-of-processing", "Processing record"),
    (OPERATION_ROLES["consentReport"], "/console/consent-report", "Consent report"),
    (OPERATION_ROLES["auditEvents"], "/console/audit", "Audit events"),
    (OPERATION_ROLES["auditVerification"], "/console/audit/verify", "Chain verification"),
    (OPERATION_ROLES["accessReport"], "/console/audit/subjects", "Access report"),
    (OPERATION_ROLES["auditEvents"], "/console/audit/export", "Export"),
    (OPERATION_ROLES["accessPolicy"], "/console/policy", "Access policy"),
    (ADMINISTRATION, "/console/admin/users", "Staff accounts"),
    (ADMINISTRATION, "/console/admin/keys", "API keys"),
    (ADMINISTRATION, "/console/admin/webhooks", "Webhooks"),
)
"""Console sections: who may use the API operation each one calls, where it lives and its
name."""

_templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True, slots=True)
class Visit:
    """One request to a console page: who made it, and the CSRF token its forms carry."""

    request: Request
    auth: RequestAuth
    csrf: str | None

    @property
    def principal(self) -> Principal | None:
        return self.auth.principal


class Console:
    """What every console page shares: settings, cookies, templates."""

    def __init__(self, policy: AuthPolicy, *, secure: bool, trusted: tuple[str, ...]) -> None:
        self.policy = policy
        self.cookies = Cookies(secure=secure)
        self.trusted = trusted
        self.webhooks_over_http = False
        """Whether webhook endpoints may use plain http (development only)."""

    def render(
        self, visit: Visit | None, template: str, status: int = 200, **values: Any
    ) -> HTMLResponse:
        principal = visit.principal if visit else None
        sections = [
            (href, name)
            for roles, href, name in SECTIONS
            if principal is not None and principal.role in roles
        ]
        html = _templates.get_template(template).render(
            principal=principal,
            csrf=visit.csrf if visit else None,
            csrf_field=CSRF_FIELD,
            sections=sections,
            **values,
        )
        return HTMLResponse(html, status, headers={"content-security-policy": PAGE_POLICY})

    async def visit(self, request: Request) -> Visit:
        bind_interface("console")
        auth, token = await console_auth(request, self.cookies, self.policy, self.trusted)
        return Visit(request, auth, csrf_token(token) if token else None)

    def page(
        self, operation: str | None, handler: Callable[[Visit], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        """A page for signed-in staff whose role may use ``operation`` (any signed-in member
        of staff when ``None``): anyone else signs in first, or gets the 403 page (recorded
        as the API records a refused operation). A POST without this session's CSRF token
        changes nothing."""

        async def endpoint(request: Request) -> Response:
            visit = await self.visit(request)
            if visit.auth.stage is not AuthStage.STAFF or visit.principal is None:
                return RedirectResponse(SIGN_IN, 303)
            principal = visit.principal
            if operation is not None and principal.role not in OPERATION_ROLES[operation]:
                await _record_denied(principal, operation)
                return self.render(visit, "forbidden.html", 403)
            if request.method == "POST":
                form = await request.form()
                if not csrf_matches(visit.csrf, form.get(CSRF_FIELD)):
                    return self.render(visit, "csrf.html", 403)
            try:
                return await handler(visit)
            except Forbidden:
                await _record_denied(principal, operation or request.url.path)
                return self.render(visit, "forbidden.html", 403)

        return endpoint

    def service_page(
        self, handler: Callable[[Visit], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        """A page whose services decide who may use them (their ``authorize``)."""
        return self.page(None, handler)


async def _record_denied(principal: Principal, operation: str) -> None:
    await record(
        Event(
            action="access.operation.denied",
            outcome=Outcome.DENIED,
            actor=actor_of(principal),
            fields_denied=(operation,),
            purpose=principal.purpose,
        )
    )


def sentence(text: str) -> str:
    """A service's message as a sentence on the page."""
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def field_errors(failure: ValidationFailed) -> dict[str, str]:
    """A validation failure as the page shows it: a sentence per field."""
    return {e.field: sentence(e.message) for e in failure.errors}


def form_text(form: FormData, name: str) -> str:
    """A form field's text, trimmed; empty when missing or a file."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def stylesheet(_: Request) -> Response:
    return Response(
        (HERE / "static" / "console.css").read_bytes(),
        media_type="text/css",
        headers={"cache-control": "no-cache"},
    )
