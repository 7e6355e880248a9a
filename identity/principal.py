"""Who a request acts as. Every domain read takes one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from identity.roles import Role
from identity.scopes import ApiScope


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated actor of a request or job.

    A member of staff has a ``role`` and a ``user_id``, and reaches a request only through a
    session that passed MFA (``mfa_verified_at``). A service signs in with an API key: it
    has ``api_key_id`` and ``scopes`` and never a role.
    """

    role: Role | None
    user_id: uuid.UUID | None = None
    team_id: int | None = None
    session_id: str | None = None
    mfa_verified_at: datetime | None = None
    purpose: str | None = None
    """The purpose the request declares (``data_subject_request:<id>``), once accepted."""
    purpose_subjects: frozenset[uuid.UUID] = frozenset()
    """The leads that purpose covers."""
    api_key_id: uuid.UUID | None = None
    scopes: frozenset[ApiScope] = frozenset()
    break_glass_grant_id: uuid.UUID | None = None
    """An active break-glass grant of this user, found when the request was authenticated."""

    @classmethod
    def service(cls, api_key_id: uuid.UUID, scopes: frozenset[ApiScope]) -> Principal:
        return cls(role=None, api_key_id=api_key_id, scopes=scopes)

    @property
    def break_glass_active(self) -> bool:
        return self.break_glass_grant_id is not None

    @property
    def is_service(self) -> bool:
        return self.api_key_id is not None

    @property
    def cursor_binding(self) -> str:
        """Who a pagination cursor is issued to: the staff member (whatever their session)
        or the API key; their role too, so a changed role starts from the first page."""
        if self.api_key_id is not None:
            return f"key:{self.api_key_id}"
        role = self.role.value if self.role is not None else "-"
        return f"user:{self.user_id}:{role}"

    def has_scope(self, scope: ApiScope) -> bool:
        return scope in self.scopes

    def mfa_within(self, window: timedelta, now: datetime) -> bool:
        """Whether MFA was passed within ``window`` of ``now`` (step-up checks)."""
        return self.mfa_verified_at is not None and now - self.mfa_verified_at <= window
