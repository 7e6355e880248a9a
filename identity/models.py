"""Staff identity tables: accounts, sessions, recovery codes, API keys and failure counters.

Nothing secret is stored in a form that signs anyone in: passwords as Argon2id hashes,
session tokens, enrolment codes, recovery codes and API key secrets as SHA-256 digests of
high-entropy random values, and TOTP seeds sealed under a master-derived key.
"""

from __future__ import annotations

import enum
import uuid

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from core.time import UtcDatetimeField
from crypto.fields import secret_field
from identity.roles import Role


class Team(Model):
    # a sales team; members share a round-robin for new leads (no docstring: it would become
    # the table description, which the landed migrations pin)
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)
    created_at = UtcDatetimeField(auto_now_add=True)
    # the rep who got the last round-robin lead of the team (the next lead goes to the next)
    last_assigned_id = fields.UUIDField(null=True)

    class Meta:
        table = "team"


class StaffUser(Model):
    """A member of staff. Their email is their login id. An account signs in only once it
    has a password and a confirmed TOTP enrolment."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    email = fields.CharField(max_length=254, unique=True)
    display_name = fields.CharField(max_length=120)
    role = fields.CharEnumField(Role, max_length=32)
    team: fields.ForeignKeyNullableRelation[Team] = fields.ForeignKeyField(
        "leadvault.Team", related_name="members", null=True, on_delete=fields.SET_NULL
    )
    team_id: int | None
    is_active = fields.BooleanField(default=True)
    # capacity for round-robin assignment in open leads owned (null: no limit)
    max_open_leads = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    password_hash = fields.CharField(max_length=255, null=True)
    password_changed_at = UtcDatetimeField(null=True)
    totp_secret = secret_field(max_length=64)
    mfa_enrolled_at = UtcDatetimeField(null=True)
    totp_last_step = fields.BigIntField(null=True)
    enrolment_code_hash = fields.CharField(max_length=64, null=True, unique=True)
    enrolment_expires_at = UtcDatetimeField(null=True)
    last_login_at = UtcDatetimeField(null=True)

    class Meta:
        table = "staff_user"

    @property
    def mfa_enrolled(self) -> bool:
        return self.mfa_enrolled_at is not None


class SessionStage(enum.StrEnum):
    """How far a session has got. Only ``active`` sessions act on data."""

    MFA_PENDING = "mfa_pending"
    ENROLLING = "enrolling"
    ACTIVE = "active"


class StaffSession(Model):
    """A signed-in browser or client. The bearer token itself is never stored."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    user: fields.ForeignKeyRelation[StaffUser] = fields.ForeignKeyField(
        "leadvault.StaffUser", related_name="sessions", on_delete=fields.CASCADE
    )
    user_id: uuid.UUID
    token_hash = fields.CharField(max_length=64, unique=True)
    stage = fields.CharEnumField(SessionStage, max_length=16)
    created_at = UtcDatetimeField()
    last_seen_at = UtcDatetimeField()
    expires_at = UtcDatetimeField()
    mfa_verified_at = UtcDatetimeField(null=True)
    revoked_at = UtcDatetimeField(null=True)
    revoked_reason = fields.CharField(max_length=32, null=True)

    class Meta:
        table = "staff_session"
        indexes = (Index(fields=("user_id", "revoked_at"), name="staff_session_user_idx"),)


class RecoveryCode(Model):
    """A single-use MFA recovery code, stored as the SHA-256 digest of an 80-bit value."""

    id = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyRelation[StaffUser] = fields.ForeignKeyField(
        "leadvault.StaffUser", related_name="recovery_codes", on_delete=fields.CASCADE
    )
    user_id: uuid.UUID
    code_hash = fields.CharField(max_length=64, unique=True)
    created_at = UtcDatetimeField()
    used_at = UtcDatetimeField(null=True)

    class Meta:
        table = "recovery_code"


class ApiKey(Model):
    """A service credential (a website form, an integration). It carries scopes, never a
    human role. The token is its public ``prefix`` and a secret stored only as a digest."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    name = fields.CharField(max_length=80)
    prefix = fields.CharField(max_length=16, unique=True)
    secret_hash = fields.CharField(max_length=64)
    scopes: list[str] = fields.JSONField(default=list)
    created_by: fields.ForeignKeyNullableRelation[StaffUser] = fields.ForeignKeyField(
        "leadvault.StaffUser", related_name="api_keys", null=True, on_delete=fields.SET_NULL
    )
    created_by_id: uuid.UUID | None
    created_at = UtcDatetimeField()
    expires_at = UtcDatetimeField(null=True)
    last_used_at = UtcDatetimeField(null=True)
    revoked_at = UtcDatetimeField(null=True)

    class Meta:
        table = "api_key"


class AuthThrottle(Model):
    """Failure counters for one login key (an account, a client address, a TOTP seed).

    Keys are digests, never the email or address itself. ``version`` makes every update a
    compare-and-swap, so several server processes count correctly.
    """

    key = fields.CharField(max_length=80, primary_key=True)
    failures = fields.IntField(default=0)
    window_started_at = UtcDatetimeField()
    blocked_until = UtcDatetimeField(null=True)
    locked_at = UtcDatetimeField(null=True)
    version = fields.IntField(default=0)

    class Meta:
        table = "auth_throttle"


class RateLimitCounter(Model):
    """Requests and query cost one principal (or, before sign-in, one client address) has
    used in the current one-minute window. One row per key, updated with a single atomic
    upsert, so every server process counts against the same budget."""

    key = fields.CharField(max_length=80, primary_key=True)
    window_start = fields.BigIntField()
    requests = fields.IntField(default=0)
    cost = fields.BigIntField(default=0)

    class Meta:
        table = "rate_limit_counter"
