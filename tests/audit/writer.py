"""A separate writer process for the concurrency test: appends N audit events, one
transaction each, to the database named on the command line."""

from __future__ import annotations

import asyncio
import sys

from tortoise import Tortoise

from audit.events import Actor, ActorType, Event, Outcome, record
from crypto.keyring import Keyring
from crypto.keystore import SubjectKeyStore
from crypto.vault import Vault, install_vault
from server.db import tortoise_config


async def main(url: str, writer: str, count: int) -> None:
    await Tortoise.init(config=tortoise_config(url))
    keyring = Keyring({1: bytes(range(32))})
    install_vault(Vault(keyring, SubjectKeyStore(keyring)))
    actor = Actor(ActorType.OPERATOR, id=writer)
    try:
        for n in range(count):
            await record(Event("test.event.written", Outcome.SUCCESS, actor, details={"n": n}))
    finally:
        await Tortoise.close_connections()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
