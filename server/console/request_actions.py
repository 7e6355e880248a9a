"""What a compliance officer does to a request from its page: send and check the identity
code, assign, extend (with a reason, inside the first period), reject (with a reason),
generate an export and its link, correct a lead (rectification), mark a request answered,
submit an erasure and approve it with a fresh TOTP code (then it runs, as through the API),
and download the certificate. Each calls the request
services the API calls; a refusal is shown on the page and changes nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from audit.events import Actor
from compliance.dsr.models import RejectionReason
from core.errors import FieldError, NotFound, ValidationFailed
from identity import clock
from identity.errors import AuthError, Forbidden
from identity.events import actor_of
from identity.principal import Principal
from rights import erasure, export, fulfil, requests, verification
from rights.errors import CodeRejected, RequestRefused
from server.console.admin import step_up_error, stepped_up
from server.console.compliance import request_id_of, request_of, show_request
from server.console.pages import Console, Visit, field_errors, form_text, sentence

Act = Callable[[Principal, uuid.UUID, FormData], Awaitable[str | export.Generated]]


def _invalid(field: str, code: str, message: str) -> ValidationFailed:
    return ValidationFailed([FieldError(field, code, message)])


def routes(console: Console) -> list[Route]:
    def action(act: Act, step_up: bool = False) -> Callable[[Visit], Awaitable[Response]]:
        async def run(visit: Visit) -> Response:
            assert visit.principal is not None
            request_id = request_id_of(visit)
            if request_id is None:
                return console.render(visit, "not_found.html", 404, what="data-subject request")
            form = await visit.request.form()
            errors: dict[str, str] = {}
            try:
                principal = await stepped_up(console, visit, form) if step_up else visit.principal
                done = await act(principal, request_id, form)
            except Forbidden:
                raise
            except AuthError as refused:
                errors["step_up_code"] = step_up_error(refused)
            except ValidationFailed as failure:
                errors = field_errors(failure)
            except CodeRejected as rejected:
                left = f" {rejected.remaining} tries left." if rejected.remaining else ""
                errors["identity_code"] = sentence(str(rejected)) + left
            except RequestRefused as refused:
                errors["action"] = sentence(refused.message)
            except NotFound:
                return console.render(visit, "not_found.html", 404, what="data-subject request")
            if errors:
                return await show_request(console, visit, errors=errors)
            if isinstance(done, export.Generated):
                return await show_request(console, visit, export_link=done.url)
            return RedirectResponse(f"/console/requests/{request_id}?done={done}", 303)

        return run

    async def send_code(principal: Principal, request_id: uuid.UUID, _: FormData) -> str:
        await verification.send_code(principal, request_id, clock.now())
        return "code_sent"

    async def verify(principal: Principal, request_id: uuid.UUID, form: FormData) -> str:
        code = form_text(form, "identity_code")
        await verification.verify_code(principal, request_id, code, clock.now())
        return "verified"

    async def assign(principal: Principal, request_id: uuid.UUID, form: FormData) -> str:
        try:
            assignee = uuid.UUID(form_text(form, "assignee_id"))
        except ValueError:
            raise _invalid("assignee_id", "invalid", "choose an officer") from None
        await requests.assign(principal, request_id, assignee, clock.now())
        return "assigned"

    async def extend(principal: Principal, request_id: uuid.UUID, form: FormData) -> str:
        by = form_text(form, "by")
        if not by.isdigit():
            raise _invalid("by", "invalid", "give a whole number")
        await requests.extend(
            principal, request_id, int(by), form_text(form, "reason"), clock.now()
        )
        return "extended"

    async def reject(principal: Principal, request_id: uuid.UUID, form: FormData) -> str:
        try:
            reason = RejectionReason(form_text(form, "reason"))
        except ValueError:
            raise _invalid("rejection_reason", "required", "choose a reason") from None
        note = form_text(form, "note") or None
        await requests.reject(principal, request_id, reason, note, clock.now())
        return "rejected"

    async def make_export(
        principal: Principal, request_id: uuid.UUID, form: FormData
    ) -> export.Generated:
        fmt = form_text(form, "format") or "json"
        return await export.generate(principal, request_id, fmt, clock.now())

    async def rectify(principal: Principal, request_id: uuid.UUID, form: FormData) -> str:
        try:
            lead_id = uuid.UUID(form_text(form, "lead_id"))
        except ValueError:
            raise _invalid("lead_id", "required", "choose the lead to correct") from None
        values = {name: form_text(form, name) for name in sorted(fulfil.RECTIFIABLE)}
        chosen = {name: value for name, value in values.items() if value}
        if not chosen:
            raise _invalid("first_name", "required", "enter at least one corrected value")
        changed = await fulfil.rectify(principal, request_id, lead_id, chosen, clock.now())
        return "rectified" if changed else "unchanged"

    async def complete(principal: Principal, request_id: uuid.UUID, _: FormData) -> str:
        await fulfil.complete(principal, request_id, clock.now())
        return "completed"

    async def submit(principal: Principal, request_id: uuid.UUID, _: FormData) -> str:
        await erasure.submit(principal, request_id, clock.now())
        return "submitted"

    async def approve(principal: Principal, request_id: uuid.UUID, _: FormData) -> str:
        await erasure.approve(principal, request_id, clock.now())
        executor: Actor = actor_of(principal)
        await erasure.execute(request_id, now=clock.now, actor=executor)
        return "approved"

    async def certificate_file(visit: Visit) -> Response:
        found = await request_of(visit)
        if found is None:
            return console.render(visit, "not_found.html", 404, what="data-subject request")
        if not found.certificate:
            return console.render(visit, "not_found.html", 404, what="erasure certificate")
        body = json.dumps(json.loads(found.certificate), indent=2, sort_keys=True)
        name = f"erasure-certificate-{found.id}.json"
        return Response(
            body,
            media_type="application/json",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )

    page = console.service_page
    base = "/requests/{request_id}"
    posts: dict[str, Any] = {
        "send-code": action(send_code),
        "verify": action(verify),
        "assign": action(assign),
        "extend": action(extend),
        "reject": action(reject),
        "export": action(make_export),
        "rectify": action(rectify),
        "complete": action(complete),
        "erasure/submit": action(submit),
        "erasure/approve": action(approve, step_up=True),
    }
    return [
        *(Route(f"{base}/{path}", page(run), methods=["POST"]) for path, run in posts.items()),
        Route(f"{base}/certificate.json", page(certificate_file), methods=["GET"]),
    ]
