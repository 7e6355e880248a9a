"""TOTP (RFC 6238: SHA-1, 30-second steps, 6 digits) and single-use recovery codes.

A code is accepted for the current step or one step either side (clock drift), and only
for a step later than the last one the account used: each code works once, and an older
code cannot be slipped in after a newer one. Recovery codes are 80-bit random values,
stored as SHA-256 digests.
"""

from __future__ import annotations

import hmac
import io
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno

from identity.tokens import digest

ISSUER = "LeadVault"
STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_CODE = re.compile(r"^\d{6}$")
_RECOVERY = re.compile(r"^[a-z0-9]{4}(-?[a-z0-9]{4}){3}$")


def new_secret() -> str:
    """A 160-bit base32 seed, the size RFC 4226 recommends."""
    return pyotp.random_base32(32)


def step_at(when: datetime) -> int:
    return int(when.timestamp()) // STEP_SECONDS


def code_for(secret: str, step: int) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step)


def provisioning_uri(secret: str, account: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=ISSUER
    )


def qr_code(uri: str) -> segno.QRCode:
    """The URI as a QR code with medium error correction (readable with 15% of it damaged)."""
    return segno.make(uri, error="m")


def qr_svg(uri: str) -> str:
    """The URI as a QR code, an SVG document a front end can show as is: 4 px a module,
    no XML declaration and no class of its own."""
    buffer = io.BytesIO()
    qr_code(uri).save(buffer, kind="svg", scale=4, xmldecl=False, svgclass=None)
    return buffer.getvalue().decode("utf-8")


@dataclass(frozen=True, slots=True)
class CodeCheck:
    """The step a code matched (``None``: no match) and whether it was already used."""

    step: int | None
    replayed: bool = False

    @property
    def accepted(self) -> bool:
        return self.step is not None and not self.replayed


def check_code(secret: str, code: str, *, now: datetime, last_step: int | None) -> CodeCheck:
    code = code.strip().replace(" ", "")
    if not _CODE.match(code):
        return CodeCheck(None)
    current = step_at(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(code_for(secret, step), code):
            if last_step is not None and step <= last_step:
                return CodeCheck(step, replayed=True)
            return CodeCheck(step)
    return CodeCheck(None)


def looks_like_totp(code: str) -> bool:
    return bool(_CODE.match(code.strip().replace(" ", "")))


def new_recovery_codes() -> list[str]:
    """Ten codes such as ``k7mq-3xza-p9td-w2hn`` (16 characters of a 30-letter alphabet,
    about 78 bits each)."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(16))
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    return codes


def normalize_recovery_code(code: str) -> str | None:
    squashed = code.strip().lower().replace(" ", "")
    if not _RECOVERY.match(squashed):
        return None
    plain = squashed.replace("-", "")
    return "-".join(plain[i : i + 4] for i in range(0, 16, 4))


def recovery_digest(code: str) -> str:
    return digest(code)
