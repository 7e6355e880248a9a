"""Administrator pages for webhooks: endpoints (register with the secret shown once, rotate
with a fresh code, enable, disable, delete) and each endpoint's deliveries with their
attempts, with redelivery. Endpoints disabled by their receivers (a 410, or failing for
days) are listed at the top of the page and on the console's home page until an admin
re-enables or deletes them. The rules are :mod:`compliance.events.endpoints`' own."""

from __future__ import annotations

import uuid

from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from compliance.events import endpoints, log
from compliance.events.types import DeliveryStatus, EventType
from core.errors import NotFound, ValidationFailed
from identity.errors import AuthError, Forbidden
from server.console.admin import step_up_error, stepped_up
from server.console.pages import Console, Visit, field_errors, form_text

WEBHOOKS = "/console/admin/webhooks"


def _path_id(visit: Visit, name: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(visit.request.path_params[name])
    except ValueError:
        return None


def _types(form: FormData) -> list[str]:
    return [t.value for t in EventType if form.get(f"type_{t.value}")]


def routes(console: Console) -> list[Route]:
    async def listing(visit: Visit, status: int = 200, **values: object) -> Response:
        assert visit.principal is not None
        rows = await endpoints.list_endpoints(visit.principal)
        return console.render(
            visit,
            "webhooks.html",
            status,
            endpoints=rows,
            attention=[row for row in rows if row.disabled_reason in ("gone", "failing")],
            types=list(EventType),
            **values,
        )

    async def index(visit: Visit) -> Response:
        return await listing(visit)

    async def create(visit: Visit) -> Response:
        assert visit.principal is not None
        form = await visit.request.form()
        given = {"url": form_text(form, "url"), "description": form_text(form, "description")}
        try:
            principal = await stepped_up(console, visit, form)
            issued = await endpoints.create(
                principal,
                given["url"],
                _types(form),
                given["description"],
                console.policy,
                allow_http=console.webhooks_over_http,
            )
        except ValidationFailed as failure:
            errors = field_errors(failure)
        except Forbidden:
            raise
        except AuthError as refused:
            errors = {"step_up_code": step_up_error(refused)}
        else:
            return console.render(
                visit, "webhook_secret.html", endpoint=issued.endpoint, secret=issued.secret
            )
        chosen = set(_types(form))
        return await listing(visit, 400, errors=errors, given={**given, "types": chosen})

    async def detail(visit: Visit, status: int = 200, **values: object) -> Response:
        assert visit.principal is not None
        endpoint_id = _path_id(visit, "endpoint_id")
        try:
            if endpoint_id is None:
                raise NotFound("webhook endpoint")
            endpoint = await endpoints.get(visit.principal, endpoint_id)
        except NotFound:
            return console.render(visit, "not_found.html", 404, what="webhook endpoint")
        shown = visit.request.query_params.get("status") or None
        if shown not in {s.value for s in DeliveryStatus}:
            shown = None
        rows = await log.deliveries(visit.principal, endpoint.id, status=shown, limit=50)
        return console.render(
            visit,
            "webhook.html",
            status,
            endpoint=endpoint,
            deliveries=rows,
            attempts=await log.attempts_of([row.id for row in rows]),
            statuses=[s.value for s in DeliveryStatus],
            shown=shown,
            request_redelivered=visit.request.query_params.get("redelivered") == "1",
            **values,
        )

    async def switch(visit: Visit) -> Response:
        assert visit.principal is not None
        endpoint_id = _path_id(visit, "endpoint_id")
        enabled = visit.request.url.path.endswith("/enable")
        try:
            if endpoint_id is None:
                raise NotFound("webhook endpoint")
            await endpoints.set_enabled(visit.principal, endpoint_id, enabled)
        except NotFound:
            return console.render(visit, "not_found.html", 404, what="webhook endpoint")
        return RedirectResponse(f"{WEBHOOKS}/{endpoint_id}", 303)

    async def rotate(visit: Visit) -> Response:
        assert visit.principal is not None
        endpoint_id = _path_id(visit, "endpoint_id")
        form = await visit.request.form()
        hours = form_text(form, "overlap_hours") or "24"
        if endpoint_id is None:
            return console.render(visit, "not_found.html", 404, what="webhook endpoint")
        if not hours.isdigit():
            return await detail(visit, 400, errors={"overlap_hours": "Enter hours, 0 to 168."})
        try:
            principal = await stepped_up(console, visit, form)
            issued = await endpoints.rotate_secret(
                principal, endpoint_id, console.policy, endpoints.overlap_of(int(hours))
            )
        except NotFound:
            return console.render(visit, "not_found.html", 404, what="webhook endpoint")
        except ValidationFailed as failure:
            return await detail(visit, 400, errors=field_errors(failure))
        except Forbidden:
            raise
        except AuthError as refused:
            return await detail(visit, 400, errors={"step_up_code": step_up_error(refused)})
        return console.render(
            visit, "webhook_secret.html", endpoint=issued.endpoint, secret=issued.secret
        )

    async def delete(visit: Visit) -> Response:
        assert visit.principal is not None
        endpoint_id = _path_id(visit, "endpoint_id")
        try:
            if endpoint_id is None:
                raise NotFound("webhook endpoint")
            await endpoints.delete(visit.principal, endpoint_id)
        except NotFound:
            return console.render(visit, "not_found.html", 404, what="webhook endpoint")
        return RedirectResponse(WEBHOOKS, 303)

    async def redeliver(visit: Visit) -> Response:
        assert visit.principal is not None
        endpoint_id = _path_id(visit, "endpoint_id")
        delivery_id = _path_id(visit, "delivery_id")
        try:
            if endpoint_id is None or delivery_id is None:
                raise NotFound("webhook delivery")
            await log.redeliver(visit.principal, delivery_id)
        except NotFound:
            return console.render(visit, "not_found.html", 404, what="webhook delivery")
        except ValidationFailed as failure:
            return await detail(
                visit, 400, errors={"redeliver": field_errors(failure)["delivery_id"]}
            )
        return RedirectResponse(f"{WEBHOOKS}/{endpoint_id}?redelivered=1", 303)

    admin = console.service_page
    return [
        Route("/admin/webhooks", admin(index), methods=["GET"]),
        Route("/admin/webhooks", admin(create), methods=["POST"]),
        Route("/admin/webhooks/{endpoint_id}", admin(detail), methods=["GET"]),
        Route("/admin/webhooks/{endpoint_id}/enable", admin(switch), methods=["POST"]),
        Route("/admin/webhooks/{endpoint_id}/disable", admin(switch), methods=["POST"]),
        Route("/admin/webhooks/{endpoint_id}/rotate", admin(rotate), methods=["POST"]),
        Route("/admin/webhooks/{endpoint_id}/delete", admin(delete), methods=["POST"]),
        Route(
            "/admin/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver",
            admin(redeliver),
            methods=["POST"],
        ),
    ]
