from __future__ import annotations

from datetime import UTC, datetime, timedelta

from identity import totp

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = datetime(2026, 11, 22, 12, 0, 10, tzinfo=UTC)


def _code(offset_steps: int) -> str:
    return totp.code_for(SECRET, totp.step_at(NOW) + offset_steps)


def test_rfc_6238_known_answer() -> None:
    # RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (8 digits); 6 digits keep the last six
    rfc_secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    assert totp.code_for(rfc_secret, 59 // 30) == "287082"


def test_the_current_code_and_one_step_either_side_are_accepted() -> None:
    for offset in (-1, 0, 1):
        check = totp.check_code(SECRET, _code(offset), now=NOW, last_step=None)
        assert check.accepted
        assert check.step == totp.step_at(NOW) + offset


def test_codes_two_steps_away_are_refused() -> None:
    for offset in (-2, 2):
        assert not totp.check_code(SECRET, _code(offset), now=NOW, last_step=None).accepted


def test_a_code_for_a_step_already_used_is_a_replay() -> None:
    step = totp.step_at(NOW)
    check = totp.check_code(SECRET, _code(0), now=NOW, last_step=step)
    assert check.replayed
    assert not check.accepted
    older = totp.check_code(SECRET, _code(-1), now=NOW, last_step=step)
    assert older.replayed


def test_malformed_codes_are_refused_without_matching() -> None:
    for code in ("", "12345", "1234567", "abcdef"):
        assert totp.check_code(SECRET, code, now=NOW, last_step=None).step is None


def test_the_enrolment_uri_and_qr_code_carry_the_seed() -> None:
    uri = totp.provisioning_uri(SECRET, "ada@example.com")
    assert uri.startswith("otpauth://totp/LeadVault:ada%40example.com?secret=" + SECRET)
    assert "issuer=LeadVault" in uri
    svg = totp.qr_svg(uri)
    assert svg.startswith("<svg")
    assert "</svg>" in svg


def test_recovery_codes_are_ten_distinct_codes_that_normalize() -> None:
    codes = totp.new_recovery_codes()
    assert len(set(codes)) == 10
    for code in codes:
        assert totp.normalize_recovery_code(code.upper().replace("-", " ")) == code
    assert totp.normalize_recovery_code("not-a-code") is None


def test_step_at_counts_thirty_second_steps() -> None:
    assert totp.step_at(NOW + timedelta(seconds=30)) == totp.step_at(NOW) + 1
