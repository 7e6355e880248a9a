"""Signing in to the console with the same accounts and services as the API: password, then
the TOTP code (or a recovery code); a first sign-in enrols with the administrator's one-time
code, a new password and the QR code; signing out ends the session."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from compliance.events.endpoints import needing_attention
from core.errors import ValidationFailed
from identity import clock, enrolment, login
from identity.authenticate import AuthStage, RequestAuth
from identity.errors import AuthError
from identity.roles import Role
from server.console.pages import Console, Visit, form_text
from server.console.session import CSRF_FIELD, csrf_matches, csrf_token

HOME = "/console/"
SIGN_IN = "/console/sign-in"
CODE = "/console/sign-in/code"
ENROL = "/console/enrol"
CONFIRM = "/console/enrol/confirm"
EXPIRED = "The form had expired. Please try again."


def routes(console: Console) -> list[Route]:
    async def sign_in(request: Request) -> Response:
        visit = await console.visit(request)
        if visit.auth.stage is AuthStage.STAFF:
            return RedirectResponse(HOME, 303)
        error = None
        email = ""
        if request.method == "POST":
            form = await request.form()
            email = form_text(form, "email")
            if not _pre_session_ok(console, request, form):
                error = EXPIRED
            else:
                try:
                    challenge = await login.login(
                        email,
                        form_text(form, "password"),
                        visit.auth.client_address,
                        console.policy,
                    )
                except AuthError as refused:
                    error = str(refused).capitalize() + "."
                else:
                    done = RedirectResponse(CODE, 303)
                    lifetime = int(console.policy.mfa_challenge_lifetime.total_seconds())
                    console.cookies.set_session(done, challenge.token, lifetime)
                    return done
        return _before_sign_in(
            console, request, "sign_in.html", 400 if error else 200, email=email, error=error
        )

    async def code(request: Request) -> Response:
        visit = await console.visit(request)
        if visit.auth.stage is AuthStage.STAFF:
            return RedirectResponse(HOME, 303)
        if visit.auth.stage is not AuthStage.MFA_PENDING:
            return RedirectResponse(SIGN_IN, 303)
        error = None
        if request.method == "POST":
            form = await request.form()
            if not csrf_matches(visit.csrf, form.get(CSRF_FIELD)):
                error = EXPIRED
            else:
                try:
                    signed_in = await login.verify_mfa(
                        visit.auth, form_text(form, "code"), console.policy
                    )
                except AuthError as refused:
                    error = str(refused).capitalize() + "."
                else:
                    return _signed_in(console, signed_in.token)
        return console.render(visit, "code.html", 400 if error else 200, error=error)

    async def enrol(request: Request) -> Response:
        visit = await console.visit(request)
        error = None
        if request.method == "POST":
            form = await request.form()
            if not _pre_session_ok(console, request, form):
                error = EXPIRED
            else:
                try:
                    started = await enrolment.begin(
                        form_text(form, "enrolment_code"),
                        form_text(form, "password"),
                        visit.auth.client_address,
                        console.policy,
                    )
                except (AuthError, ValidationFailed) as refused:
                    error = str(refused).capitalize() + "."
                else:
                    page = console.render(
                        Visit(request, visit.auth, csrf_token(started.token)),
                        "enrol_confirm.html",
                        qr_svg=started.qr_svg,
                        secret=started.secret,
                        error=None,
                    )
                    lifetime = int((started.expires_at - clock.now()).total_seconds())
                    console.cookies.set_session(page, started.token, max(lifetime, 60))
                    return page
        return _before_sign_in(console, request, "enrol.html", 400 if error else 200, error=error)

    async def confirm(request: Request) -> Response:
        visit = await console.visit(request)
        if visit.auth.stage is not AuthStage.ENROLLING:
            return RedirectResponse(ENROL, 303)
        form = await request.form()
        if not csrf_matches(visit.csrf, form.get(CSRF_FIELD)):
            error = "The form had expired. Start again with your enrolment code."
            return console.render(visit, "enrol.html", 403, error=error)
        try:
            signed_in = await enrolment.confirm(visit.auth, form_text(form, "code"), console.policy)
        except AuthError as refused:
            return console.render(
                visit, "enrol_confirm.html", 400, error=str(refused).capitalize() + "."
            )
        page = console.render(
            Visit(request, visit.auth, csrf_token(signed_in.token)),
            "recovery_codes.html",
            codes=signed_in.recovery_codes,
        )
        lifetime = int(console.policy.session_lifetime.total_seconds())
        console.cookies.set_session(page, signed_in.token, lifetime)
        return page

    async def sign_out(visit: Visit) -> Response:
        await login.logout(visit.auth)
        done = RedirectResponse(SIGN_IN, 303)
        console.cookies.clear_session(done)
        return done

    async def home(visit: Visit) -> Response:
        attention = []
        if visit.principal is not None and visit.principal.role is Role.ADMIN:
            attention = await needing_attention()
        return console.render(visit, "home.html", attention=attention)

    return [
        Route("/", console.page(None, home), methods=["GET"]),
        Route("/sign-in", sign_in, methods=["GET", "POST"]),
        Route("/sign-in/code", code, methods=["GET", "POST"]),
        Route("/enrol", enrol, methods=["GET", "POST"]),
        Route("/enrol/confirm", confirm, methods=["POST"]),
        Route("/sign-out", console.page(None, sign_out), methods=["POST"]),
    ]


def _signed_in(console: Console, token: str) -> Response:
    done = RedirectResponse(HOME, 303)
    console.cookies.set_session(done, token, int(console.policy.session_lifetime.total_seconds()))
    return done


def _pre_session_ok(console: Console, request: Request, form: FormData) -> bool:
    """A form posted before sign-in carries the token of its own cookie (double submit)."""
    return csrf_matches(request.cookies.get(console.cookies.pre_session), form.get(CSRF_FIELD))


def _before_sign_in(
    console: Console, request: Request, template: str, status: int, **values: Any
) -> Response:
    """A form shown before sign-in, with its double-submit CSRF token."""
    token = console.cookies.pre_session_token(request)
    anonymous = RequestAuth(AuthStage.ANONYMOUS, "")
    response = console.render(Visit(request, anonymous, token), template, status, **values)
    console.cookies.set_pre_session(response, token)
    return response
