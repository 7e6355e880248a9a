"""The second factor at its edges: RFC 6238 by wall-clock time, recovery codes that belong to
one account only and carry their full entropy, a throttle per account, and audit events that
tell a wrong code from a replayed one."""

from __future__ import annotations

import itertools
import math
import re
from datetime import UTC, datetime, timedelta

import pytest

from audit.events import Actor
from audit.models import AuditEvent
from identity import totp
from identity.errors import CodeRejected, TooManyAttempts
from identity.models import RecoveryCode
from identity.policy import AuthPolicy
from identity.second_factor import Method, verify
from identity.throttle import Policy
from tests.identity.conftest import Clock, an_enrolled_user

RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # base32 of ASCII "12345678901234567890"
# RFC 6238 appendix B (SHA-1, 8 digits); six digits keep the last six.
RFC_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


@pytest.mark.parametrize(("unix_time", "eight_digits"), RFC_VECTORS)
def test_rfc_6238_known_answers_by_wall_clock_time(unix_time: int, eight_digits: str) -> None:
    moment = datetime.fromtimestamp(unix_time, UTC)

    assert totp.code_for(RFC_SECRET, totp.step_at(moment)) == eight_digits[-6:]
    check = totp.check_code(RFC_SECRET, eight_digits[-6:], now=moment, last_step=None)
    assert check.accepted
    assert check.step == unix_time // 30


def test_recovery_codes_carry_about_78_bits_each() -> None:
    batches = [totp.new_recovery_codes() for _ in range(20)]
    codes = [code for batch in batches for code in batch]
    alphabet = set("abcdefghjkmnpqrstuvwxyz23456789")

    assert all(len(batch) == 10 for batch in batches)
    for code in codes:
        assert re.fullmatch(r"[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}", code)
        assert set(code.replace("-", "")) <= alphabet
    # 16 characters from 31 letters (no i, l, o, 0, 1): log2(31) * 16 ≈ 79 bits
    assert 16 * math.log2(len(alphabet)) > 78
    # all 200 codes differ, and between them they use the whole alphabet in every position
    assert len(set(codes)) == len(codes)
    for position in range(16):
        seen = {code.replace("-", "")[position] for code in codes}
        assert len(seen) > 20


async def _store_codes(user_id: object, codes: list[str], now: datetime) -> None:
    await RecoveryCode.bulk_create(
        [
            RecoveryCode(user_id=user_id, code_hash=totp.recovery_digest(c), created_at=now)
            for c in codes
        ]
    )


async def test_another_accounts_unused_recovery_code_is_refused(frozen: Clock) -> None:
    mine = await an_enrolled_user()
    theirs = await an_enrolled_user()
    their_codes = totp.new_recovery_codes()
    await _store_codes(theirs.user.id, their_codes, frozen.now)

    with pytest.raises(CodeRejected) as refused:
        await verify(mine.user, their_codes[0], Actor.anonymous(), AuthPolicy(), frozen.now)

    assert refused.value.replayed is False
    assert await RecoveryCode.filter(user_id=theirs.user.id, used_at__isnull=True).count() == 10
    used = await verify(theirs.user, their_codes[0], Actor.anonymous(), AuthPolicy(), frozen.now)
    assert used is Method.RECOVERY_CODE


async def test_a_used_recovery_code_is_a_replay(frozen: Clock) -> None:
    account = await an_enrolled_user()
    codes = totp.new_recovery_codes()
    await _store_codes(account.user.id, codes, frozen.now)
    await verify(account.user, codes[3], Actor.anonymous(), AuthPolicy(), frozen.now)

    with pytest.raises(CodeRejected) as refused:
        await verify(account.user, codes[3], Actor.anonymous(), AuthPolicy(), frozen.now)

    assert refused.value.replayed is True


async def _actions(user_id: object) -> list[tuple[str, str | None]]:
    events = await AuditEvent.filter(target_id=str(user_id)).order_by("seq")
    return [(e.action, e.details.get("reason")) for e in events]


async def test_a_wrong_code_is_recorded_as_a_failure_and_a_reused_one_as_a_replay(
    frozen: Clock,
) -> None:
    account = await an_enrolled_user()
    right = frozen.code(account.secret)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    with pytest.raises(CodeRejected) as failed:
        await verify(account.user, wrong, Actor.anonymous(), AuthPolicy(), frozen.now)
    await verify(account.user, right, Actor.anonymous(), AuthPolicy(), frozen.now)
    with pytest.raises(CodeRejected) as replayed:
        await verify(account.user, right, Actor.anonymous(), AuthPolicy(), frozen.now)

    assert failed.value.replayed is False
    assert replayed.value.replayed is True
    assert await _actions(account.user.id) == [
        ("auth.mfa.failed", None),
        ("auth.mfa.replayed", None),
    ]


async def test_the_code_throttle_counts_per_account(frozen: Clock) -> None:
    policy = AuthPolicy(totp=Policy(window=timedelta(hours=1), max_per_window=3))
    noisy = await an_enrolled_user()
    quiet = await an_enrolled_user()
    wrong = f"{(int(frozen.code(noisy.secret)) + 1) % 1_000_000:06d}"
    for _ in range(3):
        with pytest.raises(CodeRejected):
            await verify(noisy.user, wrong, Actor.anonymous(), policy, frozen.now)

    with pytest.raises(TooManyAttempts):
        await verify(noisy.user, frozen.code(noisy.secret), Actor.anonymous(), policy, frozen.now)
    allowed = await verify(
        quiet.user, frozen.code(quiet.secret), Actor.anonymous(), policy, frozen.now
    )

    assert allowed is Method.TOTP
    throttled = await AuditEvent.filter(action="auth.mfa.failed", outcome="denied").get()
    assert throttled.target_type == "staff_user"
    assert throttled.target_id == str(noisy.user.id)
    assert throttled.details == {"reason": "throttled"}


def test_recovery_code_groups_do_not_overlap() -> None:
    codes = [code for _ in range(20) for code in totp.new_recovery_codes()]
    # with four separate groups, a group repeating three letters of the next is a 1 in
    # 29,791 chance; overlapping slices of one string would repeat them every time
    repeats = 0
    for code in codes:
        groups = code.split("-")
        repeats += sum(a[1:] == b[:3] for a, b in itertools.pairwise(groups))
    assert repeats < 3


async def test_an_unknown_recovery_code_is_a_failure_not_a_replay(frozen: Clock) -> None:
    account = await an_enrolled_user()
    await _store_codes(account.user.id, totp.new_recovery_codes(), frozen.now)

    with pytest.raises(CodeRejected) as refused:
        await verify(
            account.user, "abcd-efgh-jkmn-pqrs", Actor.anonymous(), AuthPolicy(), frozen.now
        )

    assert refused.value.replayed is False


def test_the_enrolment_qr_code_has_medium_error_correction_at_four_pixels_a_module() -> None:
    uri = totp.provisioning_uri("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "ada@example.com")
    code = totp.qr_code(uri)
    width, height = code.symbol_size(scale=4)

    svg = totp.qr_svg(uri)

    assert code.error == "M"
    assert svg.startswith(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" ')
    assert f'height="{height}"' in svg
    assert 'transform="scale(4)"' in svg
    assert "segno" not in svg


def test_a_code_typed_with_spaces_is_accepted() -> None:
    moment = datetime.fromtimestamp(59, UTC)
    assert totp.check_code(RFC_SECRET, " 287 082 ", now=moment, last_step=None).accepted


async def test_a_used_step_is_remembered_on_the_account(frozen: Clock) -> None:
    account = await an_enrolled_user()

    await verify(
        account.user, frozen.code(account.secret), Actor.anonymous(), AuthPolicy(), frozen.now
    )

    assert account.user.totp_last_step == totp.step_at(frozen.now)


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def test_correct_codes_do_not_count_against_the_hourly_limit(frozen: Clock) -> None:
    policy = AuthPolicy(totp=Policy(window=timedelta(hours=1), max_per_window=3))
    account = await an_enrolled_user()
    for _ in range(4):
        frozen.advance(seconds=30)
        code = frozen.code(account.secret)
        assert await verify(account.user, code, Actor.anonymous(), policy, frozen.now)

    for _ in range(2):
        with pytest.raises(CodeRejected):
            await verify(account.user, _wrong(code), Actor.anonymous(), policy, frozen.now)
    frozen.advance(seconds=30)
    await verify(account.user, frozen.code(account.secret), Actor.anonymous(), policy, frozen.now)
    with pytest.raises(CodeRejected):
        await verify(account.user, _wrong(code), Actor.anonymous(), policy, frozen.now)

    # two failures, a success taken back, one more failure: the third of three
    with pytest.raises(TooManyAttempts):
        await verify(account.user, _wrong(code), Actor.anonymous(), policy, frozen.now)


async def test_refusals_and_uses_are_recorded_at_the_callers_time(frozen: Clock) -> None:
    policy = AuthPolicy(totp=Policy(window=timedelta(hours=1), max_per_window=1))
    account = await an_enrolled_user()
    other = await an_enrolled_user()
    codes = totp.new_recovery_codes()
    await _store_codes(account.user.id, codes, frozen.now)
    await _store_codes(other.user.id, totp.new_recovery_codes(), frozen.now)
    frozen.advance(minutes=5)

    assert await verify(account.user, codes[0], Actor.anonymous(), AuthPolicy(), frozen.now)
    with pytest.raises(CodeRejected):
        await verify(
            account.user, _wrong(frozen.code(account.secret)), Actor.anonymous(), policy, frozen.now
        )
    with pytest.raises(TooManyAttempts):
        await verify(account.user, codes[1], Actor.anonymous(), policy, frozen.now)

    events = await AuditEvent.filter(target_id=str(account.user.id)).order_by("seq")
    assert [(e.action, e.outcome) for e in events] == [
        ("auth.recovery_code.used", "success"),
        ("auth.mfa.failed", "failure"),
        ("auth.mfa.failed", "denied"),
    ]
    assert all(e.target_type == "staff_user" for e in events)
    assert all(e.occurred_at == frozen.now for e in events)
    assert events[0].details == {"remaining": 9}


async def test_a_code_with_a_space_is_taken_as_a_totp_code(frozen: Clock) -> None:
    account = await an_enrolled_user()
    code = frozen.code(account.secret)

    method = await verify(
        account.user, f"{code[:3]} {code[3:]}", Actor.anonymous(), AuthPolicy(), frozen.now
    )

    assert method is Method.TOTP


async def test_a_recovery_code_is_refused_where_recovery_is_not_allowed(frozen: Clock) -> None:
    account = await an_enrolled_user()
    codes = totp.new_recovery_codes()
    await _store_codes(account.user.id, codes, frozen.now)

    with pytest.raises(CodeRejected) as refused:
        await verify(
            account.user,
            codes[0],
            Actor.anonymous(),
            AuthPolicy(),
            frozen.now,
            allow_recovery=False,
        )

    assert refused.value.replayed is False
    assert await RecoveryCode.filter(user_id=account.user.id, used_at__isnull=True).count() == 10


async def test_a_code_for_an_account_without_a_seed_is_a_failure(frozen: Clock) -> None:
    account = await an_enrolled_user(totp_secret=None)

    with pytest.raises(CodeRejected) as refused:
        await verify(account.user, "123456", Actor.anonymous(), AuthPolicy(), frozen.now)

    assert refused.value.replayed is False
