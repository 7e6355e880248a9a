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
from compliance.crypto.keyring import Keyring
from compliance.crypto.keystore import SubjectKeyStore
from compliance.crypto.vault import Vault, install_vault
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
