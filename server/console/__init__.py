"""The compliance and audit console: server-rendered pages at ``/console`` for the people
who are not front-end developers. Every page calls the same domain services with the same
:class:`identity.principal.Principal` as the API, under the same operation rules; the audit
trail marks its events ``via: console``."""

from __future__ import annotations

from starlette.routing import Mount, Route

from schema import LeadVaultSchema
from schema.limits.config import QueryLimits
from server.console import (
    admin,
    auditor,
    compliance,
    records,
    request_actions,
    signin,
    subjects,
    webhooks,
)
from server.console.pages import Console, stylesheet
from server.settings import Settings


def console_mount(settings: Settings, schema: LeadVaultSchema, limits: QueryLimits) -> Mount:
    """``schema`` and ``limits``: the API's own, for the pages that read leads through it."""
    console = Console(
        settings.auth_policy(), secure=not settings.is_dev, trusted=settings.trusted_proxies
    )
    console.webhooks_over_http = settings.is_dev
    return Mount(
        "/console",
        routes=[
            *signin.routes(console),
            *auditor.routes(console),
            *admin.routes(console),
            *webhooks.routes(console),
            *compliance.routes(console),
            *request_actions.routes(console),
            *records.routes(console),
            *subjects.routes(console, schema, limits),
            Route("/static/console.css", stylesheet, methods=["GET"]),
        ],
    )
