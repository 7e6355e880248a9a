"""Who a request acts as. Every domain read takes one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from server.auth.roles import Role


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated actor of a request or job.

    ``user_id`` is None only for the development principal, which exists in ``dev`` mode
    until staff sign-in replaces it; production never builds one.
    """

    role: Role
    user_id: uuid.UUID | None = None
    team_id: int | None = None
    session_id: str | None = None
    mfa_verified_at: datetime | None = None
    purpose: str | None = None
    is_development: bool = False

    @classmethod
    def development(cls) -> Principal:
        return cls(role=Role.SALES_MANAGER, is_development=True)
