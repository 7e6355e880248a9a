"""A separate process for the upgrade test: migrates the database named on the command line
to the migration named there, or, given ``events``, writes audit events the way releases
before the chain did (no sequence, no hashes), or, given ``latest``, applies every remaining
migration and prints what ``audit verify`` finds."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime

from tortoise import Tortoise, connections
from tortoise.migrations.api import migrate

from audit.verify import verify
from crypto.keyring import Keyring
from crypto.keystore import SubjectKeyStore
from crypto.vault import Vault, install_vault
from server.db import APP_LABEL, tortoise_config


async def _write_pre_chain_events(count: int) -> None:
    db = connections.get("default")
    postgres = db.capabilities.dialect == "postgres"
    marks = ", ".join(f"${i}" if postgres else "?" for i in range(1, 9))
    for n in range(count):
        await db.execute_query(
            "INSERT INTO audit_event (occurred_at, action, outcome, actor_type, actor_id, "
            f"fields, details, target_type) VALUES ({marks})",
            [
                datetime(2026, 1, 1, 12, n, tzinfo=UTC),
                "auth.login.succeeded",
                "success",
                "staff",
                f"user-{n}",
                "[]",
                json.dumps({"n": n}),
                "staff_user",
            ],
        )


LEAD_ID = "00000000-0000-4000-8000-000000000001"


async def _write_lead_before_scoring() -> None:
    """A lead as releases before scoring stored it (only the columns they had)."""
    db = connections.get("default")
    postgres = db.capabilities.dialect == "postgres"
    marks = ", ".join(f"${i}" if postgres else "?" for i in range(1, 17))
    when = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    await db.execute_query(
        "INSERT INTO lead (id, seniority, company_size, source, budget, authority, need, "
        "timeline, stage, status, stage_entered_at, score, fit_score, engagement_score, "
        f"created_at, updated_at) VALUES ({marks})",
        [LEAD_ID, "vp", "51-200", "web_form", "unknown", "unknown", "unknown", "unknown",
         "lead", "open", when, 0, 0, 0, when, when],
    )  # fmt: skip


async def _lead_after_upgrade() -> dict[str, object]:
    from leads.models import Lead

    lead = await Lead.get(id=LEAD_ID)
    return {
        "breakdown": lead.score_breakdown,
        "version": lead.score_model_version,
        "deal_value": lead.deal_value,
        "sql_at": lead.sql_at,
        "reason": lead.assignment_reason,
    }


async def main(url: str, step: str) -> None:
    config = tortoise_config(url)
    if step.startswith("0"):
        try:
            await migrate(config=config, target=f"{APP_LABEL}.{step}")
        finally:
            await Tortoise.close_connections()
        return
    await Tortoise.init(config=config)
    try:
        if step == "events":
            await _write_pre_chain_events(3)
            return
        if step == "lead":
            await _write_lead_before_scoring()
            return
        if step == "read-lead":
            print(json.dumps(await _lead_after_upgrade()))
            return
        await Tortoise.close_connections()
        try:
            await migrate(config=config)
        finally:
            await Tortoise.close_connections()
        await Tortoise.init(config=config)
        keyring = Keyring({1: bytes(range(32))})
        install_vault(Vault(keyring, SubjectKeyStore(keyring)))
        result = await verify()
        print(json.dumps({"ok": result.ok, "checked": result.events_checked}))
    finally:
        await Tortoise.close_connections()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
