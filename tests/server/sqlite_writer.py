"""A separate process for the SQLite writers test: N transactions that each read, then
write (the shape of most mutations), on the database named on the command line. Prints the
number of transactions that failed."""

from __future__ import annotations

import asyncio
import sys

from tortoise import Tortoise
from tortoise.transactions import in_transaction

from identity.models import Team
from server.db import tortoise_config


async def main(url: str, writer: str, count: int) -> None:
    await Tortoise.init(config=tortoise_config(url))
    failed = 0
    try:
        for n in range(count):
            try:
                async with in_transaction("default"):
                    existing = await Team.filter(name__startswith=writer).count()
                    await Team.create(name=f"{writer}-{n}-{existing}")
            except Exception as exc:  # counted and reported by the test
                failed += 1
                print(type(exc).__name__, exc, file=sys.stderr)
    finally:
        await Tortoise.close_connections()
    print(failed)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
