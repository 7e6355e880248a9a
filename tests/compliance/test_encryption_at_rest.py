"""Personal data at rest: what a stolen copy of the databases reveals (nothing), what
tampering does (a clear error, never wrong data), and what shredding does (erased, even in
old backups)."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import httpx
import pytest
from tortoise import connections

from crypto.fields import personal_fields_of
from crypto.vault import ERASED, current_vault, shred_subject
from identity.models import StaffUser
from leads.demo import DemoSeeder
from leads.enums import Stage
from leads.models import Lead, StageChange
from server.settings import Settings
from tests.builders import a_lead, clear_value, graphql

LEAD = """query ($id: ID!) { lead(id: $id) { email firstName phone
  stageHistory { toStage reason } } }"""


def _sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite://"))


async def test_raw_database_files_hold_no_seeded_personal_values(
    database: str, settings: Settings
) -> None:
    if database != "sqlite":
        pytest.skip("inspects the SQLite files")
    await DemoSeeder(seed=5, as_of=date(2026, 6, 1)).seed(200)
    staff_names = " ".join(await StaffUser.all().values_list("display_name", flat=True))
    secrets: set[str] = set()
    for lead in await Lead.all():
        for field in personal_fields_of(Lead):
            value = await clear_value(lead, field)
            # Values under 5 characters (a name like "Ana") also occur inside clear,
            # non-personal text such as a company called "... Analytics".
            if value and len(value) >= 5 and value not in staff_names:
                secrets.add(value)
    assert len(secrets) > 400
    files = []
    for url in (settings.database_url.reveal(), settings.keystore_url.reveal()):
        path = _sqlite_path(url)
        files += [p for p in (path, Path(f"{path}-wal")) if p.exists()]
    raw = b"".join(p.read_bytes() for p in files)

    leaked = sorted(s for s in secrets if s.encode() in raw)

    assert leaked == []


async def _copy_email(source: Lead, target: Lead) -> None:
    await Lead.filter(id=target.id).update(email=source.email)


async def test_a_ciphertext_copied_to_another_lead_fails_and_reveals_nothing(
    client: httpx.AsyncClient,
) -> None:
    ada, bob = await a_lead(email="ada@example.com"), await a_lead(email="bob@example.com")
    await _copy_email(ada, bob)

    body = await graphql(client, LEAD, {"id": str(bob.id)})

    assert body["data"]["lead"]["email"] is None
    assert body["errors"][0]["path"] == ["lead", "email"]
    assert "authentication" in body["errors"][0]["message"]
    assert "ada@example.com" not in str(body)


async def test_a_truncated_or_edited_ciphertext_fails(client: httpx.AsyncClient) -> None:
    ada = await a_lead(email="ada@example.com", phone="+4930123456")
    edited = bytearray(ada.phone)
    edited[-1] ^= 0xFF
    await Lead.filter(id=ada.id).update(email=ada.email[:20], phone=bytes(edited))

    body = await graphql(client, LEAD, {"id": str(ada.id)})

    messages = sorted(e["message"] for e in body["errors"])
    assert messages == [
        "lead.email: ciphertext is truncated",
        "lead.phone: ciphertext failed authentication (edited, moved or wrong key)",
    ]


async def test_a_shredded_subject_reads_as_erased_everywhere(client: httpx.AsyncClient) -> None:
    ada = await a_lead(email="ada@example.com", first_name="Ada", stage=Stage.SQL)
    await StageChange.filter(lead_id=ada.id).delete()
    from identity.principal import Principal
    from identity.roles import Role
    from leads import service

    await service.change_stage(Principal(role=Role.MARKETER), ada.id, Stage.MQL, "not ready")
    bob = await a_lead(email="bob@example.com", first_name="Bob")

    assert await shred_subject(ada.id) is True
    assert await shred_subject(ada.id) is False

    erased = (await graphql(client, LEAD, {"id": str(ada.id)}))["data"]["lead"]
    intact = (await graphql(client, LEAD, {"id": str(bob.id)}))["data"]["lead"]
    assert erased == {
        "email": ERASED,
        "firstName": ERASED,
        "phone": None,
        "stageHistory": [{"toStage": "MQL", "reason": ERASED}],
    }
    assert (intact["email"], intact["firstName"]) == ("bob@example.com", "Bob")


async def test_a_restored_backup_does_not_bring_a_shredded_subject_back(
    database: str, settings: Settings, tmp_path: Path
) -> None:
    if database != "sqlite":
        pytest.skip("copies the SQLite file as a backup would")
    ada, bob = await a_lead(email="ada@example.com"), await a_lead(email="bob@example.com")
    backup = tmp_path / "backup.sqlite3"
    await connections.get("default").execute_script(f"VACUUM INTO '{backup}'")

    await shred_subject(ada.id)

    with sqlite3.connect(backup) as restored:
        rows = dict(restored.execute("SELECT id, email FROM lead").fetchall())
    vault = current_vault()
    keys = await vault.subject_keys([ada.id, bob.id])
    assert vault.open_value(Lead, "email", ada.id, rows[str(ada.id)], keys.get(ada.id)) == ERASED
    assert vault.open_value(Lead, "email", bob.id, rows[str(bob.id)], keys[bob.id]) == (
        "bob@example.com"
    )


async def test_lookup_by_email_or_phone_goes_through_the_blind_index(
    client: httpx.AsyncClient,
) -> None:
    ada = await a_lead(email="ada@example.com", phone="+4930123456")
    await a_lead(email="bob@example.com")
    query = "query ($e: String, $p: String) { lead(email: $e, phone: $p) { id } }"

    by_email = await graphql(client, query, {"e": "  ADA@Example.com"})
    by_phone = await graphql(client, query, {"p": "0049 30 123456"})
    missing = await graphql(client, query, {"e": "nobody@example.com"})
    both = await graphql(client, query, {"e": "ada@example.com", "p": "+4930123456"})

    assert by_email["data"]["lead"]["id"] == by_phone["data"]["lead"]["id"] == str(ada.id)
    assert missing["data"]["lead"] is None
    assert both["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_plaintext_cannot_be_written_to_a_personal_column() -> None:
    from crypto.fields import PlaintextRefused

    with pytest.raises(PlaintextRefused) as raised:
        await Lead.create(
            email="leak@example.com",
            source="api",
            stage_entered_at="2026-01-01T00:00:00+00:00",
            created_at="2026-01-01T00:00:00+00:00",
            updated_at="2026-01-01T00:00:00+00:00",
        )
    assert "leak@example.com" not in str(raised.value)
    assert await Lead.all().count() == 0
