"""Encryption cost on the read path, and bulk sealing throughput.

1. Read path: ``leads(first: 100)`` asking for five personal fields per lead, over ASGI,
   against two databases seeded from the same seed: one sealed with AES-256-GCM (the
   product), one written through the same code with a benchmark-only vault that stores the
   UTF-8 bytes unencrypted. Same query, same data; the difference is the cryptography
   (key-store lookup, key unwrap, AES-GCM per field). Target: at most 20% throughput lost.
2. Bulk sealing: personal fields sealed per second on one core (target ≥ 20,000).

    python -m benchmarks.encryption [--leads 10000] [--requests 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from tortoise.models import Model

from benchmarks.read_path import _drive
from benchmarks.setup import active_session
from crypto.envelope import Location, seal
from crypto.fields import personal_fields_of
from crypto.keyring import Keyring
from crypto.keystore import SubjectKeyStore
from crypto.vault import Vault, install_vault
from identity.roles import Role
from leads.demo import DemoSeeder
from server.app import create_app
from server.db import close_db, init_db, migrate
from server.settings import Environment, Secret, Settings

QUERY = """{ leads(first: 100) { edges { node {
  id firstName lastName email phone jobTitle companyName stage } } } }"""


class PlaintextVault(Vault):
    """Benchmark baseline only: the same calls, storing UTF-8 bytes unencrypted."""

    def seal_values(
        self, model: type[Model], row_id: object, data_key: bytes, values: Any
    ) -> dict[str, Any]:
        personal = personal_fields_of(model)
        return {
            k: v.encode() if k in personal and isinstance(v, str) else v for k, v in values.items()
        }

    def open_value(
        self,
        model: type[Model],
        field_name: str,
        row_id: object,
        blob: bytes | None,
        data_key: bytes | None,
    ) -> str | None:
        return None if blob is None else blob.decode()


async def _measure(vault_class: type[Vault], leads: int, requests: int) -> tuple[float, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="leadvault-enc-"))
    settings = Settings(
        env=Environment.DEV,
        data_dir=workdir,
        database_url=Secret(f"sqlite://{workdir / 'main.sqlite3'}"),
        keystore_url=Secret(f"sqlite://{workdir / 'keys.sqlite3'}"),
    )
    await migrate(settings)
    await close_db()
    await init_db(settings)
    keyring = Keyring({1: bytes(range(32))})
    keystore = SubjectKeyStore(keyring)
    await keystore.verify_master_keys()
    install_vault(vault_class(keyring, keystore))
    try:
        started = time.perf_counter()
        await DemoSeeder(seed=1, as_of=date(2026, 6, 1)).seed(leads)
        seed_seconds = time.perf_counter() - started
        app = create_app(settings, manage_database=False)
        token = await active_session(Role.SALES_MANAGER)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://bench",
            headers={"Authorization": f"Bearer {token}"},
        ) as client:

            async def call() -> httpx.Response:
                return await client.post("/graphql", json={"query": QUERY})

            first = (await call()).json()
            if "errors" in first:
                raise SystemExit(f"query failed: {first['errors']}")
            result = await _drive(call, "marketer", vault_class.__name__, 1, requests)
        return seed_seconds, (result, first)
    finally:
        await close_db()


def bulk_sealing(fields: int) -> float:
    key = os.urandom(32)
    values = [f"person{i}@example.com" for i in range(fields)]
    started = time.perf_counter()
    for i, value in enumerate(values):
        seal(key, 1, Location("lead", "email", str(i)), value)
    return fields / (time.perf_counter() - started)


async def run(leads: int, requests: int) -> None:
    plain_seed, (plain, plain_body) = await _measure(PlaintextVault, leads, requests)
    sealed_seed, (sealed, sealed_body) = await _measure(Vault, leads, requests)
    same = plain_body == sealed_body
    print(f"seeded {leads} leads: plaintext {plain_seed:.1f} s, encrypted {sealed_seed:.1f} s")
    print(f"both databases return identical JSON for the query: {same}")
    print(f"\n{'columns':<12}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    for name, r in (("plaintext", plain), ("encrypted", sealed)):
        print(
            f"{name:<12}{r.throughput:>10.1f}{r.percentile(0.5):>10.1f}{r.percentile(0.99):>10.1f}"
        )
    ratio = sealed.throughput / plain.throughput
    verdict = "meets" if ratio >= 0.8 else "MISSES"
    print(f"encrypted/plaintext throughput = {ratio:.2f} ({verdict} the ≥ 0.80 target)")
    rate = bulk_sealing(200_000)
    print(
        f"\nbulk sealing: {rate:,.0f} fields/s on one core "
        f"({'meets' if rate >= 20_000 else 'MISSES'} the ≥ 20,000 target)"
    )
    fields_sealed = leads * 5
    print(
        f"seeding (sealing {fields_sealed:,} personal fields plus key creation and "
        f"indexes) cost {sealed_seed - plain_seed:.1f} s over the plaintext baseline"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(run(args.leads, args.requests))


if __name__ == "__main__":
    main()
