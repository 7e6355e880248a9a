"""Benchmark setup: a migrated database with the vault open, and signed-in sessions made
directly (no password hashing in the setup)."""

from __future__ import annotations

import base64
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from identity.models import SessionStage, StaffSession, StaffUser
from identity.roles import Role
from identity.tokens import SESSION_PREFIX, digest, new_token
from server.db import close_db, init_db, migrate, open_vault
from server.settings import Environment, Secret, Settings


async def open_database(database_url: str | None) -> Settings:
    """Migrate ``database_url`` (default: a fresh SQLite file in a temporary folder), open
    the ORM and install the vault under a fixed benchmark master key. The request budget is
    lifted: a benchmark is one principal sending thousands of requests a minute."""
    workdir = Path(tempfile.mkdtemp(prefix="leadvault-bench-"))
    settings = Settings(
        env=Environment.DEV,
        data_dir=workdir,
        database_url=Secret(database_url or f"sqlite://{workdir / 'bench.sqlite3'}"),
        keystore_url=Secret(f"sqlite://{workdir / 'keys.sqlite3'}"),
        master_key=Secret(base64.b64encode(bytes(range(32))).decode()),
        rate_limit_requests=10**6,
        rate_limit_cost=10**9,
    )
    await migrate(settings)
    await close_db()
    await init_db(settings)
    await open_vault(settings)
    return settings


async def active_session(role: Role = Role.MARKETER, team_id: int | None = None) -> str:
    """A bearer token for an active session of the first account with ``role`` (in team
    ``team_id`` when given)."""
    accounts = StaffUser.filter(role=role)
    if team_id is not None:
        accounts = accounts.filter(team_id=team_id)
    user = await accounts.order_by("email").first()
    if user is None:
        suffix = f"-{team_id}" if team_id is not None else ""
        user = await StaffUser.create(
            email=f"bench-{role.value}{suffix}@staff.example",
            display_name="Bench",
            role=role,
            team_id=team_id,
        )
    now = datetime.now(UTC)
    token = new_token(SESSION_PREFIX)
    await StaffSession.create(
        user_id=user.id,
        token_hash=digest(token),
        stage=SessionStage.ACTIVE,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=12),
        mfa_verified_at=now,
    )
    return token
