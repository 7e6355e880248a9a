from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from audit.events import Event
from audit.models import AuditEvent
from crypto.keyring import Keyring
from crypto.keystore import SubjectKeyStore
from crypto.vault import Vault, current_vault, install_vault, shred_subject
from leads import key_rotation
from leads.models import ContactIndex
from tests.builders import a_lead, graphql
from tests.conftest import TEST_KEYRING

NEW_KEY = bytes([42]) * 32


@pytest.fixture(autouse=True)
def restore_vault() -> Iterator[None]:
    original = current_vault()
    yield
    install_vault(original)


async def test_rotation_moves_keys_and_indexes_and_everything_stays_readable(
    client: httpx.AsyncClient,
) -> None:
    leads = [await a_lead(email=f"p{i}@example.com") for i in range(7)]
    original = current_vault()
    keyring = Keyring({1: TEST_KEYRING.master_key(1), 2: NEW_KEY})
    vault = Vault(keyring, SubjectKeyStore(keyring))
    install_vault(vault)
    try:
        before = await key_rotation.status(vault)
        assert before.subject_keys == {1: 7}
        assert before.leads_to_reindex == 7

        await key_rotation.rotate(vault, batch_size=3)

        after = await key_rotation.status(vault)
        assert after.subject_keys == {2: 7}
        assert after.index_entries == {1: 7, 2: 7}
        assert after.leads_to_reindex == 0
        assert await key_rotation.retire(vault, 1) == 7
        jobs = {e.action: e.details for e in await AuditEvent.filter(action__startswith="keys.")}
        assert jobs["keys.rotation.completed"]["subject_keys"] == 7
        assert jobs["keys.rotation.completed"]["leads_reindexed"] == 7
        assert jobs["keys.version.retired"] == {"version": 1, "blind_indexes": 7}
        run = jobs["keys.rotation.completed"]["run"]
        for action in ("keys.rewrap.batch", "keys.reindex.batch"):
            batches = await AuditEvent.filter(action=action).order_by("seq")
            assert [e.details["count"] for e in batches] == [3, 3, 1], action
            assert {e.details["run"] for e in batches} == {run}
        reindexed = await AuditEvent.filter(action="keys.reindex.batch")
        assert {s for e in reindexed for s in e.subject_ids} == {str(lead.id) for lead in leads}
        install_vault(Vault(Keyring({2: NEW_KEY}), SubjectKeyStore(Keyring({2: NEW_KEY}))))
        body = await graphql(client, 'query { lead(email: "p3@example.com") { id email } }')
        assert body["data"]["lead"] == {"id": str(leads[3].id), "email": "p3@example.com"}
    finally:
        install_vault(original)


async def test_an_old_version_cannot_be_retired_while_in_use() -> None:
    await a_lead(email="ada@example.com")  # under version 1 only
    original = current_vault()
    keyring = Keyring({1: TEST_KEYRING.master_key(1), 2: NEW_KEY})
    vault = Vault(keyring, SubjectKeyStore(keyring))
    try:
        with pytest.raises(key_rotation.VersionInUse):
            await key_rotation.retire(vault, 1)
        with pytest.raises(key_rotation.VersionInUse):
            await key_rotation.retire(vault, 2)
    finally:
        install_vault(original)


async def test_reindex_stopped_midway_resumes() -> None:
    for i in range(5):
        await a_lead(email=f"p{i}@example.com")  # indexed under version 1 only
    original = current_vault()
    keyring = Keyring({1: TEST_KEYRING.master_key(1), 2: NEW_KEY})
    rotated_vault = Vault(keyring, SubjectKeyStore(keyring))
    install_vault(rotated_vault)

    def crash(_: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        await key_rotation.reindex(rotated_vault, batch_size=2, on_batch=crash)
    assert (await key_rotation.status(rotated_vault)).leads_to_reindex == 3

    assert await key_rotation.reindex(rotated_vault, batch_size=2) == 3
    assert (await key_rotation.status(rotated_vault)).leads_to_reindex == 0
    install_vault(original)


async def test_reindex_steps_over_shredded_leads_and_indexes_the_rest() -> None:
    leads = sorted([await a_lead(email=f"p{i}@example.com") for i in range(6)], key=lambda x: x.id)
    for lead in leads[:2]:  # the whole first batch is shredded
        await shred_subject(lead.id)
    keyring = Keyring({1: TEST_KEYRING.master_key(1), 2: NEW_KEY})
    vault = Vault(keyring, SubjectKeyStore(keyring))
    install_vault(vault)

    await key_rotation.reindex(vault, batch_size=2)

    reindexed = set(await ContactIndex.filter(key_version=2).values_list("lead_id", flat=True))
    assert reindexed == {lead.id for lead in leads[2:]}


async def test_a_rewrap_batch_is_announced_before_it_commits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await a_lead(email="ada@example.com")
    keyring = Keyring({1: TEST_KEYRING.master_key(1), 2: NEW_KEY})
    vault = Vault(keyring, SubjectKeyStore(keyring))
    install_vault(vault)
    real = key_rotation.announce

    async def announce_then_die(event: Event, now: object = None) -> None:
        await real(event)
        raise RuntimeError("killed after the announcement")

    monkeypatch.setattr(key_rotation, "announce", announce_then_die)
    with pytest.raises(RuntimeError):
        await key_rotation.rotate(vault)

    assert (await key_rotation.status(vault)).subject_keys == {1: 1}  # nothing committed
    announced = await AuditEvent.filter(action="keys.rewrap.batch")
    assert [e.details["count"] for e in announced] == [1]
