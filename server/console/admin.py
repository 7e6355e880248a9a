"""Administrator pages: staff accounts (list, create with the enrolment code shown once,
disable and enable, reset MFA, unlock, end sessions) and API keys (create with the secret
shown once, revoke). The rules are the account services' own (:func:`identity.admin.authorize`
and their step-up checks): a sensitive action asks for a fresh TOTP code on the same form."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from core.errors import NotFound, ValidationFailed
from identity import accounts, key_admin, login, throttle
from identity.errors import AuthError, Forbidden, StepUpRequired
from identity.models import StaffUser
from identity.principal import Principal
from identity.roles import Role
from identity.scopes import ApiScope
from server.console.pages import Console, Visit, field_errors, form_text, sentence

USERS = "/console/admin/users"
KEYS = "/console/admin/keys"


async def stepped_up(console: Console, visit: Visit, form: FormData) -> Principal:
    """The visitor, with a fresh MFA check when the form carries a code (step-up in place);
    a wrong or replayed code raises like the API's ``stepUp``."""
    assert visit.principal is not None
    code = form_text(form, "step_up_code")
    if not code:
        return visit.principal
    checked = await login.step_up(visit.principal, code, console.policy)
    return dataclasses.replace(visit.principal, mfa_verified_at=checked)


def step_up_error(refused: AuthError) -> str:
    """What the step-up field says: the action needs a fresh code, or the code failed."""
    if isinstance(refused, StepUpRequired):
        return "Enter the code from your authenticator to confirm."
    return sentence(str(refused))


def _user_id(visit: Visit) -> uuid.UUID | None:
    try:
        return uuid.UUID(visit.request.path_params["user_id"])
    except ValueError:
        return None


def routes(console: Console) -> list[Route]:
    async def users(visit: Visit) -> Response:
        assert visit.principal is not None
        statuses = await accounts.list_users(visit.principal)
        return console.render(visit, "admin_users.html", statuses=statuses, roles=list(Role))

    async def create_user(visit: Visit) -> Response:
        assert visit.principal is not None
        form = await visit.request.form()
        given = {name: form_text(form, name) for name in ("email", "display_name", "role", "team")}
        errors: dict[str, str] = {}
        role = given["role"] if given["role"] in {r.value for r in Role} else None
        if role is None:
            errors["role"] = "Choose a role."
        team = int(given["team"]) if given["team"].isdigit() else None
        if given["team"] and team is None:
            errors["team"] = "A team is a number, such as 1."
        if role is not None and not errors:
            try:
                created = await accounts.create_user(
                    visit.principal,
                    given["email"],
                    given["display_name"],
                    Role(role),
                    console.policy,
                    team,
                )
            except ValidationFailed as failure:
                errors = field_errors(failure)
            except NotFound:
                errors = {"team": "There is no such team."}
            else:
                return console.render(
                    visit, "admin_code_issued.html", account=created.user, issued=created.enrolment
                )
        statuses = await accounts.list_users(visit.principal)
        return console.render(
            visit,
            "admin_users.html",
            400,
            statuses=statuses,
            roles=list(Role),
            errors=errors,
            given=given,
        )

    async def user(visit: Visit) -> Response:
        assert visit.principal is not None
        user_id = _user_id(visit)
        found = None if user_id is None else await _status(visit.principal, user_id)
        if found is None:
            return console.render(visit, "not_found.html", 404, what="staff account")
        return console.render(visit, "admin_user.html", account=found, done=None, errors={})

    def action(
        act: Callable[[Principal, uuid.UUID, FormData], Awaitable[str | Any]],
    ) -> Callable[[Visit], Awaitable[Response]]:
        async def run(visit: Visit) -> Response:
            assert visit.principal is not None
            user_id = _user_id(visit)
            found = None if user_id is None else await _status(visit.principal, user_id)
            if found is None or user_id is None:
                return console.render(visit, "not_found.html", 404, what="staff account")
            form = await visit.request.form()
            errors: dict[str, str] = {}
            done: Any = None
            try:
                principal = await stepped_up(console, visit, form)
                done = await act(principal, user_id, form)
            except Forbidden:
                raise
            except AuthError as refused:
                errors["step_up_code"] = step_up_error(refused)
            if isinstance(done, accounts.NewAccount):
                return console.render(
                    visit, "admin_code_issued.html", account=done.user, issued=done.enrolment
                )
            account = await _status(visit.principal, user_id)
            return console.render(
                visit, "admin_user.html", 400 if errors else 200, account=account, done=done,
                errors=errors,
            )  # fmt: skip

        return run

    async def disable(principal: Principal, user_id: uuid.UUID, _: FormData) -> str:
        await accounts.set_active(principal, user_id, False)
        return "The account is disabled and its sessions have ended."

    async def enable(principal: Principal, user_id: uuid.UUID, _: FormData) -> str:
        await accounts.set_active(principal, user_id, True)
        return "The account is enabled."

    async def unlock(principal: Principal, user_id: uuid.UUID, _: FormData) -> str:
        was = await accounts.unlock(principal, user_id)
        return "Unlocked." if was else "The account was not locked."

    async def end_sessions(principal: Principal, user_id: uuid.UUID, _: FormData) -> str:
        count = await accounts.end_sessions(principal, user_id)
        return f"{count} session{'s' if count != 1 else ''} ended."

    async def reset_mfa(principal: Principal, user_id: uuid.UUID, _: FormData) -> Any:
        return await accounts.reset_mfa(principal, user_id, console.policy)

    async def keys(visit: Visit) -> Response:
        assert visit.principal is not None
        listed = await key_admin.list_keys(visit.principal)
        return console.render(visit, "admin_keys.html", keys=listed, scopes=list(ApiScope))

    async def create_key(visit: Visit) -> Response:
        assert visit.principal is not None
        form = await visit.request.form()
        name = form_text(form, "name")
        chosen = [s for s in ApiScope if form.get(f"scope_{s.value}")]
        errors: dict[str, str] = {}
        expires = form_text(form, "expires_on")
        expires_at = None
        if expires:
            try:
                day = datetime.fromisoformat(expires)
            except ValueError:
                errors["expires_on"] = "Enter a date, such as 2027-06-30."
            else:
                expires_at = day if day.tzinfo else day.replace(tzinfo=UTC)
        if not errors:
            try:
                principal = await stepped_up(console, visit, form)
                issued = await key_admin.create(principal, name, chosen, console.policy, expires_at)
            except ValidationFailed as failure:
                errors = field_errors(failure)
            except Forbidden:
                raise
            except AuthError as refused:
                errors["step_up_code"] = step_up_error(refused)
            else:
                return console.render(
                    visit, "admin_key_issued.html", key=issued.key, token=issued.token
                )
        listed = await key_admin.list_keys(visit.principal)
        return console.render(
            visit,
            "admin_keys.html",
            400,
            keys=listed,
            scopes=list(ApiScope),
            errors=errors,
            given={"name": name, "scopes": {s.value for s in chosen}, "expires_on": expires},
        )

    async def revoke_key(visit: Visit) -> Response:
        assert visit.principal is not None
        try:
            key_id = uuid.UUID(visit.request.path_params["key_id"])
            await key_admin.revoke(visit.principal, key_id)
        except (ValueError, NotFound):
            return console.render(visit, "not_found.html", 404, what="API key")
        return RedirectResponse(KEYS, 303)

    admin = console.service_page
    return [
        Route("/admin/users", admin(users), methods=["GET"]),
        Route("/admin/users", admin(create_user), methods=["POST"]),
        Route("/admin/users/{user_id}", admin(user), methods=["GET"]),
        Route("/admin/users/{user_id}/disable", admin(action(disable)), methods=["POST"]),
        Route("/admin/users/{user_id}/enable", admin(action(enable)), methods=["POST"]),
        Route("/admin/users/{user_id}/unlock", admin(action(unlock)), methods=["POST"]),
        Route("/admin/users/{user_id}/sessions", admin(action(end_sessions)), methods=["POST"]),
        Route("/admin/users/{user_id}/reset-mfa", admin(action(reset_mfa)), methods=["POST"]),
        Route("/admin/keys", admin(keys), methods=["GET"]),
        Route("/admin/keys", admin(create_key), methods=["POST"]),
        Route("/admin/keys/{key_id}/revoke", admin(revoke_key), methods=["POST"]),
    ]


async def _status(principal: Principal, user_id: uuid.UUID) -> accounts.AccountStatus | None:
    """One account with whether sign-in is locked (the list's two facts, for one account)."""
    try:
        user: StaffUser = await accounts.get_user(principal, user_id)
    except NotFound:
        return None
    locked = await throttle.locked_keys([throttle.account_key(user.email)])
    return accounts.AccountStatus(user, bool(locked))
