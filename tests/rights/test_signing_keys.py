"""Signing keys have their own lifecycle: what was signed (audit checkpoints, erasure
certificates) stays checkable after master-key rotation and retirement, after a signing-key
rotation, and a swapped public key checks nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest

from audit import chain
from audit.events import Actor, Event, Outcome, record
from audit.models import AuditCheckpoint
from audit.verify import Problem, verify
from compliance.dsr.models import DataSubjectRequest
from crypto import signing
from crypto.keyring import Keyring
from crypto.keystore import SubjectKeyStore
from crypto.models import SigningKey
from crypto.vault import Vault, current_vault, install_vault
from leads import key_rotation
from rights import certificate, erasure
from tests.builders import a_full_lead
from tests.conftest import TEST_KEYRING
from tests.rights.helpers import NOW, an_approved_erasure, an_officer

NEW_KEY = bytes([42]) * 32
BOTH = Keyring({1: TEST_KEYRING.master_key(1), 2: NEW_KEY})
ONLY_NEW = Keyring({2: NEW_KEY})


@pytest.fixture(autouse=True)
def restore_vault() -> Iterator[None]:
    original = current_vault()
    yield
    install_vault(original)


def _use(keyring: Keyring) -> Vault:
    vault = Vault(keyring, SubjectKeyStore(keyring))
    install_vault(vault)
    return vault


async def _events(count: int, start: int = 0) -> None:
    chain.configure(checkpoint_every=2, checkpoint_minutes=60 * 24 * 365)
    try:
        for n in range(start, start + count):
            await record(
                Event("test.event.written", Outcome.SUCCESS, Actor.operator(), details={"n": n}),
                now=NOW + timedelta(seconds=n),
            )
    finally:
        chain.configure(checkpoint_every=1000, checkpoint_minutes=60)


async def _a_certificate() -> dict[str, object]:
    user, officer = await an_officer()
    await a_full_lead(None, None, "ada@example.com")
    request = await an_approved_erasure(officer, user)
    moments = iter(NOW + timedelta(minutes=5, seconds=i) for i in range(1000))
    await erasure.execute(request.id, now=lambda: next(moments), actor=Actor.operator())
    stored = await DataSubjectRequest.get(id=request.id)
    return dict(json.loads(stored.certificate or ""))


async def test_after_rotating_and_retiring_the_master_key_old_signatures_still_check() -> None:
    await _events(4)
    document = await _a_certificate()
    signed_with = document["signature"]["public_key"]  # type: ignore[index]
    checkpoints = await AuditCheckpoint.all().count()

    vault = _use(BOTH)
    await key_rotation.rotate(vault)
    await key_rotation.retire(vault, 1)
    _use(ONLY_NEW)

    result = await verify()
    assert result.ok, result.problem
    assert result.checkpoints_checked >= checkpoints >= 2
    assert certificate.verify(document, signed_with).valid
    assert await certificate.public_key_hex(1) == signed_with
    await _events(2, start=4)  # and signing goes on under the new master key alone
    after = await verify()
    assert after.ok, after.problem
    assert after.checkpoints_checked > result.checkpoints_checked


async def test_retiring_refuses_a_master_version_that_still_seals_a_signing_key() -> None:
    await _events(2)  # the checkpoint key is put on record, sealed under version 1
    vault = _use(BOTH)

    with pytest.raises(key_rotation.VersionInUse, match="still sealed under version 1"):
        await key_rotation.retire(vault, 1)
    assert await SigningKey.filter(purpose=signing.AUDIT_CHECKPOINTS).count() == 1


async def test_retiring_refuses_while_a_signature_has_no_key_on_record() -> None:
    await _events(2)
    await AuditCheckpoint.all().update(key_version=7)
    vault = _use(BOTH)
    await key_rotation.rotate(vault)

    with pytest.raises(key_rotation.VersionInUse, match="audit-checkpoint-ed25519 v7"):
        await key_rotation.retire(vault, 1)


async def test_keys_made_before_the_table_existed_are_adopted_from_every_master_version() -> None:
    """Earlier releases derived a checkpoint key from each master version; whatever those
    signed must still check once the keys are on record."""
    _use(BOTH)
    await signing.adopt(signing.AUDIT_CHECKPOINTS)

    rows = await SigningKey.filter(purpose=signing.AUDIT_CHECKPOINTS).order_by("version")
    derived = [signing._derived(BOTH, signing.AUDIT_CHECKPOINTS, v) for v in (1, 2)]
    assert [row.version for row in rows] == [1, 2]
    assert [row.public_key for row in rows] == [
        signing.public_hex(key.public_key()) for key in derived
    ]
    assert (await signing.active_key(signing.AUDIT_CHECKPOINTS))[0] == 2


async def test_a_signing_key_rotation_signs_with_the_new_version_and_keeps_the_old() -> None:
    await _events(2)
    new_version = await signing.rotate(signing.AUDIT_CHECKPOINTS, NOW)
    await _events(2, start=2)

    versions = await AuditCheckpoint.all().order_by("seq").values_list("key_version", flat=True)
    assert (new_version, versions) == (2, [1, 2])
    assert (await verify()).ok
    listed = [
        (k["purpose"], k["version"], k["vouched_for_by_its_seal"]) for k in await signing.listing()
    ]
    assert listed == [
        (signing.AUDIT_CHECKPOINTS, 1, True),
        (signing.AUDIT_CHECKPOINTS, 2, True),
    ]


async def test_a_public_key_swapped_in_the_table_checks_nothing() -> None:
    await _events(2)
    await signing.rotate(signing.AUDIT_CHECKPOINTS, NOW)
    other = await SigningKey.get(purpose=signing.AUDIT_CHECKPOINTS, version=2)
    await SigningKey.filter(purpose=signing.AUDIT_CHECKPOINTS, version=1).update(
        public_key=other.public_key
    )

    result = await verify()

    assert result.problem == Problem(1, "the checkpoint's signature does not verify")
    listed = {k["version"]: k["vouched_for_by_its_seal"] for k in await signing.listing()}
    assert listed == {1: False, 2: True}
    await SigningKey.filter(purpose=signing.AUDIT_CHECKPOINTS, version=2).delete()
    with pytest.raises(signing.SigningKeyError, match="does not match its seal"):
        await signing.active_key(signing.AUDIT_CHECKPOINTS)  # nothing is signed with it
