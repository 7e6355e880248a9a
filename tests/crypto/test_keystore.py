from __future__ import annotations

import uuid

import pytest
from tortoise import connections

from crypto.envelope import CiphertextError
from crypto.keyring import Keyring, KeyringError
from crypto.keystore import SubjectKeyStore

K1, K2, WRONG = bytes([1]) * 32, bytes([2]) * 32, bytes([9]) * 32


def _subjects(count: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(count)]


async def test_a_subject_gets_one_stable_random_data_key() -> None:
    store = SubjectKeyStore(Keyring({1: K1}))
    subject, other = _subjects(2)

    created = await store.load_or_create([subject, other])
    again = await store.load_or_create([subject])

    assert again[subject] == created[subject]
    assert created[subject] != created[other]
    assert len(created[subject]) == 32


async def test_the_key_store_holds_only_wrapped_keys() -> None:
    store = SubjectKeyStore(Keyring({1: K1}))
    (subject,) = _subjects(1)
    data_key = (await store.load_or_create([subject]))[subject]

    rows = await connections.get("keystore").execute_query_dict(
        "SELECT wrapped_key FROM subject_key"
    )

    assert data_key not in bytes(rows[0]["wrapped_key"])


async def test_a_shredded_subject_has_no_key_any_more() -> None:
    store = SubjectKeyStore(Keyring({1: K1}))
    subject, other = _subjects(2)
    await store.load_or_create([subject, other])

    assert await store.shred(subject) is True
    assert await store.shred(subject) is False

    assert set(await store.load([subject, other])) == {other}


async def test_a_wrapped_key_moved_to_another_subject_fails() -> None:
    store = SubjectKeyStore(Keyring({1: K1}))
    subject, other = _subjects(2)
    await store.load_or_create([subject, other])
    db = connections.get("keystore")
    marks = ("$1", "$2") if db.capabilities.dialect == "postgres" else ("?", "?")
    wrapped = (
        await db.execute_query_dict(
            f"SELECT wrapped_key FROM subject_key WHERE subject_id = {marks[0]}", [subject]
        )
    )[0]
    await db.execute_query(
        f"UPDATE subject_key SET wrapped_key = {marks[0]} WHERE subject_id = {marks[1]}",
        [bytes(wrapped["wrapped_key"]), other],
    )

    with pytest.raises(CiphertextError):
        await store.load([other])


async def test_a_wrong_master_key_is_refused_at_start_up() -> None:
    await SubjectKeyStore(Keyring({1: K1})).verify_master_keys()

    with pytest.raises(KeyringError) as raised:
        await SubjectKeyStore(Keyring({1: WRONG})).verify_master_keys()

    assert "master key version 1" in str(raised.value)


async def test_processes_starting_together_on_a_new_key_store_all_start() -> None:
    import asyncio

    starts = [SubjectKeyStore(Keyring({1: K1})).verify_master_keys() for _ in range(3)]

    await asyncio.gather(*starts)  # each reads no record, then each tries to write it

    rows = await connections.get("keystore").execute_query_dict(
        "SELECT master_version FROM master_key_check"
    )
    assert rows == [{"master_version": 1}]


async def test_two_different_keys_racing_to_a_new_key_store_start_only_one() -> None:
    import asyncio

    right = SubjectKeyStore(Keyring({1: K1})).verify_master_keys()
    wrong = SubjectKeyStore(Keyring({1: WRONG})).verify_master_keys()

    results = await asyncio.gather(right, wrong, return_exceptions=True)

    # whichever recorded the store first starts; the other, holding a different key, never
    refused = [result for result in results if isinstance(result, KeyringError)]
    assert len(refused) == 1
    assert results.count(None) == 1


async def test_a_missing_master_version_that_still_wraps_keys_is_refused() -> None:
    old = SubjectKeyStore(Keyring({1: K1}))
    await old.verify_master_keys()
    await old.load_or_create(_subjects(1))

    with pytest.raises(KeyringError) as raised:
        await SubjectKeyStore(Keyring({2: K2})).verify_master_keys()

    assert "version 1" in str(raised.value)


async def test_rotation_rewraps_every_key_and_keeps_it_readable() -> None:
    subjects = _subjects(25)
    before = await SubjectKeyStore(Keyring({1: K1})).load_or_create(subjects)
    rotated = SubjectKeyStore(Keyring({1: K1, 2: K2}))

    assert await rotated.status() == {1: 25}
    assert await rotated.rewrap(batch_size=10) == 25

    assert await rotated.status() == {2: 25}
    assert await SubjectKeyStore(Keyring({2: K2})).load(subjects) == before


async def test_rotation_stopped_midway_resumes_without_redoing_work() -> None:
    subjects = _subjects(25)
    before = await SubjectKeyStore(Keyring({1: K1})).load_or_create(subjects)
    rotated = SubjectKeyStore(Keyring({1: K1, 2: K2}))

    def crash_after_first_batch(count: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        await rotated.rewrap(batch_size=10, on_batch=crash_after_first_batch)
    assert await rotated.status() == {1: 15, 2: 10}

    assert await rotated.rewrap(batch_size=10) == 15
    assert await rotated.status() == {2: 25}
    assert await rotated.load(subjects) == before
