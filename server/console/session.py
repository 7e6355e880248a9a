"""The console's session: the same staff sessions as the API, carried in a cookie.

- The cookie holds the session token the API would hand out, so the session store, its
  idle and absolute limits, revocation and MFA step-up are the API's own. In production it
  is ``__Host-leadvault-console`` (Secure, Path=/, no Domain); in development, where the
  demo runs over plain HTTP, ``leadvault-console`` without Secure (a ``__Host-`` cookie must
  be Secure). Always HttpOnly and SameSite=Strict.
- The GraphQL endpoint never reads cookies: it stays bearer-only.
- Every POST carries a CSRF token: HMAC-SHA256 of a fixed label keyed with the session
  token, so another session's token, or none, is refused. Before sign-in (the password
  form) the token is a random value also set in its own cookie (double submit).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

from core.request_context import bind_client_address
from identity import clock
from identity.authenticate import AuthStage, RequestAuth, authenticate, client_address
from identity.errors import InvalidCredentials
from identity.policy import AuthPolicy

SECURE_COOKIE = "__Host-leadvault-console"
DEV_COOKIE = "leadvault-console"
PRE_SESSION_COOKIE = "leadvault-console-csrf"
CSRF_FIELD = "csrf"
_LABEL = b"leadvault console csrf v1"


class Cookies:
    """Names and flags of the console's cookies for one deployment."""

    def __init__(self, *, secure: bool) -> None:
        self.secure = secure
        self.session = SECURE_COOKIE if secure else DEV_COOKIE
        self.pre_session = f"__Host-{PRE_SESSION_COOKIE}" if secure else PRE_SESSION_COOKIE

    def set_session(self, response: Response, token: str, max_age: int) -> None:
        response.set_cookie(
            self.session,
            token,
            max_age=max_age,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="strict",
        )

    def clear_session(self, response: Response) -> None:
        response.delete_cookie(
            self.session, path="/", secure=self.secure, httponly=True, samesite="strict"
        )

    def pre_session_token(self, request: Request) -> str:
        """The CSRF token of a form shown before sign-in (the browser's, if it has one)."""
        return request.cookies.get(self.pre_session) or secrets.token_urlsafe(32)

    def set_pre_session(self, response: Response, token: str) -> None:
        response.set_cookie(
            self.pre_session,
            token,
            max_age=3600,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="strict",
        )


def csrf_token(session_token: str) -> str:
    return hmac.new(session_token.encode(), _LABEL, hashlib.sha256).hexdigest()


def csrf_matches(expected: str | None, given: object) -> bool:
    return (
        expected is not None
        and isinstance(given, str)
        and hmac.compare_digest(expected.encode(), given.encode())
    )


async def console_auth(
    request: Request, cookies: Cookies, policy: AuthPolicy, trusted: tuple[str, ...]
) -> tuple[RequestAuth, str | None]:
    """Who the cookie signs in (anonymous without one, or with one that is unknown, expired
    or revoked), and the session token. API keys never count here."""
    peer = request.client.host if request.client else None
    address = client_address(peer, request.headers.get("x-forwarded-for"), trusted)
    bind_client_address(address)
    token = request.cookies.get(cookies.session)
    if not token:
        return RequestAuth(AuthStage.ANONYMOUS, address), None
    try:
        auth = await authenticate(f"Bearer {token}", address, policy, clock.now())
    except InvalidCredentials:
        return RequestAuth(AuthStage.ANONYMOUS, address), None
    if auth.stage is AuthStage.SERVICE:
        return RequestAuth(AuthStage.ANONYMOUS, address), None
    return auth, token
