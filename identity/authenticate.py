"""Turning a request's ``Authorization: Bearer`` header into who it acts as.

No header: anonymous (it may only sign in). A session token: the session's stage decides
what it may do; only an ``active`` session yields a staff :class:`Principal`. An API key:
a service principal with the key's scopes. A token that is present but unknown, expired or
revoked is an error, never silently anonymous.
"""

from __future__ import annotations

import enum
import ipaddress
from dataclasses import dataclass
from datetime import datetime

from identity import api_keys, sessions
from identity.errors import InvalidCredentials
from identity.models import SessionStage, StaffSession, StaffUser
from identity.policy import AuthPolicy
from identity.principal import Principal
from identity.tokens import API_KEY_PREFIX, SESSION_PREFIX


class AuthStage(enum.StrEnum):
    ANONYMOUS = "anonymous"
    MFA_PENDING = "mfa_pending"
    ENROLLING = "enrolling"
    STAFF = "staff"
    SERVICE = "service"


@dataclass(frozen=True, slots=True)
class RequestAuth:
    stage: AuthStage
    client_address: str
    principal: Principal | None = None
    session: StaffSession | None = None

    @property
    def user(self) -> StaffUser | None:
        return self.session.user if self.session is not None else None


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidCredentials
    return token.strip()


def client_address(peer: str | None, forwarded_for: str | None, trusted: tuple[str, ...]) -> str:
    """The client's address: the TCP peer, unless the peer is a trusted proxy, in which case
    the nearest untrusted address in ``X-Forwarded-For``."""
    address = peer or "unknown"
    if forwarded_for and address in trusted:
        for hop in reversed([part.strip() for part in forwarded_for.split(",")]):
            try:
                ipaddress.ip_address(hop)
            except ValueError:
                break
            address = hop
            if hop not in trusted:
                break
    return address


async def authenticate(
    authorization: str | None, address: str, policy: AuthPolicy, now: datetime
) -> RequestAuth:
    token = bearer_token(authorization)
    if token is None:
        return RequestAuth(AuthStage.ANONYMOUS, address)
    if token.startswith(API_KEY_PREFIX):
        key = await api_keys.find(token, now)
        if key is None:
            raise InvalidCredentials
        principal = Principal.service(key.id, api_keys.scopes_of(key))
        return RequestAuth(AuthStage.SERVICE, address, principal)
    if not token.startswith(SESSION_PREFIX):
        raise InvalidCredentials
    session = await sessions.find(token, policy, now)
    if session is None:
        raise InvalidCredentials
    if session.stage is SessionStage.MFA_PENDING:
        return RequestAuth(AuthStage.MFA_PENDING, address, session=session)
    if session.stage is SessionStage.ENROLLING:
        return RequestAuth(AuthStage.ENROLLING, address, session=session)
    user = session.user
    principal = Principal(
        role=user.role,
        user_id=user.id,
        team_id=user.team_id,
        session_id=str(session.id),
        mfa_verified_at=session.mfa_verified_at,
    )
    return RequestAuth(AuthStage.STAFF, address, principal, session)
