"""GraphQL types of staff identity. No type exposes a hash, a seed or a stored token."""

from __future__ import annotations

from datetime import datetime

import strawberry

from identity import api_keys
from identity.models import ApiKey as ApiKeyRow
from identity.models import StaffSession, StaffUser
from identity.policy import AuthPolicy
from schema.enums import ApiScope, StaffRole


@strawberry.type(description="A staff account as its owner and administrators see it.")
class StaffAccount:
    id: strawberry.ID
    email: str
    display_name: str
    role: StaffRole
    team_id: strawberry.ID | None
    is_active: bool
    mfa_enrolled: bool
    locked: bool | None = strawberry.field(
        description="Sign-in locked after repeated failures (set in administrator lists)."
    )
    last_login_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, row: StaffUser, locked: bool | None = None) -> StaffAccount:
        return cls(
            id=strawberry.ID(str(row.id)),
            email=row.email,
            display_name=row.display_name,
            role=row.role,
            team_id=strawberry.ID(str(row.team_id)) if row.team_id is not None else None,
            is_active=row.is_active,
            mfa_enrolled=row.mfa_enrolled,
            locked=locked,
            last_login_at=row.last_login_at,
            created_at=row.created_at,
        )


@strawberry.type(description="A signed-in session. Its token is never shown again.")
class SessionInfo:
    id: strawberry.ID
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime = strawberry.field(description="The absolute end of the session.")
    idle_expires_at: datetime = strawberry.field(description="When it ends if left unused.")
    mfa_verified_at: datetime | None

    @classmethod
    def of(cls, row: StaffSession, policy: AuthPolicy) -> SessionInfo:
        return cls(
            id=strawberry.ID(str(row.id)),
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            expires_at=row.expires_at,
            idle_expires_at=min(row.expires_at, row.last_seen_at + policy.session_idle),
            mfa_verified_at=row.mfa_verified_at,
        )


@strawberry.type
class Me:
    account: StaffAccount
    session: SessionInfo


@strawberry.type(description="Password accepted. Send the MFA code with this token.")
class MfaChallenge:
    challenge_token: str = strawberry.field(
        description="Use as `Authorization: Bearer` for verifyMfa; it can do nothing else."
    )
    expires_at: datetime


@strawberry.type(description="Signed in. Use the token as `Authorization: Bearer`.")
class SignedIn:
    token: str
    session: SessionInfo
    account: StaffAccount
    recovery_codes: list[str] = strawberry.field(
        description="Only right after enrolment: ten single-use codes, shown this once."
    )


@strawberry.type(description="Scan the QR code (or enter the secret), then confirm a code.")
class MfaEnrolment:
    enrolment_token: str = strawberry.field(
        description="Use as `Authorization: Bearer` for confirmMfaEnrolment."
    )
    expires_at: datetime
    secret: str = strawberry.field(description="The TOTP seed, base32, for manual entry.")
    otpauth_uri: str
    qr_code_svg: str = strawberry.field(description="The otpauth URI as an SVG QR code.")


@strawberry.type(description="An API key for a service. Its secret is shown only once.")
class ApiKey:
    id: strawberry.ID
    name: str
    prefix: str = strawberry.field(description="The public part of the key, to tell keys apart.")
    scopes: list[ApiScope]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: ApiKeyRow) -> ApiKey:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            prefix=row.prefix,
            scopes=sorted(api_keys.scopes_of(row)),
            created_at=row.created_at,
            expires_at=row.expires_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
        )
