"""Processing purposes, their lawful basis and the notice text a person was shown.

The purposes come from configuration (``LEADVAULT_PURPOSES_FILE``, JSON) or the defaults
below. Each has one lawful basis (GDPR Art. 6(1)): ``consent`` purposes need a recorded
grant; ``legitimate_interest`` and ``contract`` purposes rest on a basis recorded when the
lead is captured or created, and an objection withdraws it. Every notice version keeps its
text, and every ledger event stores the SHA-256 of the text it rests on, so the company can
show exactly what a person agreed to.
"""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class LawfulBasis(enum.StrEnum):
    CONSENT = "consent"
    LEGITIMATE_INTEREST = "legitimate_interest"
    CONTRACT = "contract"


EMAIL_MARKETING = "email_marketing"
SALES_CONTACT = "sales_contact"
PROFILING = "profiling"
ANALYTICS = "analytics"
THIRD_PARTY_SHARING = "third_party_sharing"


class PurposeConfigError(ValueError):
    """The purposes file is malformed; the message names the entry and the problem."""


@dataclass(frozen=True, slots=True)
class Notice:
    version: str
    text: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Purpose:
    name: str
    basis: LawfulBasis
    description: str
    notices: tuple[Notice, ...]
    """Every version shown so far, oldest first; the last is current."""
    expires_after_days: int | None = None
    """A consent grant lapses after this many days (a new grant is needed)."""
    opted_out_by_gpc: bool = False
    """A Global Privacy Control signal is an opt-out of this purpose (sale/sharing, marketing)."""
    double_opt_in: bool = False
    """A grant captured from a form takes effect only once the person confirms by email."""

    @property
    def notice(self) -> Notice:
        return self.notices[-1]

    def notice_version(self, version: str | None) -> Notice | None:
        if version is None:
            return self.notice
        return next((n for n in self.notices if n.version == version), None)


DEFAULT_PURPOSES: tuple[Purpose, ...] = (
    Purpose(
        EMAIL_MARKETING,
        LawfulBasis.CONSENT,
        "Newsletters, product news and offers by email",
        (Notice("2026-01", "We will email you news and offers. Unsubscribe at any time."),),
        expires_after_days=730,
        opted_out_by_gpc=True,
    ),
    Purpose(
        SALES_CONTACT,
        LawfulBasis.LEGITIMATE_INTEREST,
        "A salesperson contacts you about the enquiry you made",
        (Notice("2026-01", "Our sales team may contact you about your enquiry."),),
    ),
    Purpose(
        PROFILING,
        LawfulBasis.LEGITIMATE_INTEREST,
        "Lead scoring from your role, company and engagement",
        (Notice("2026-01", "We score enquiries by fit and engagement to prioritise them."),),
    ),
    Purpose(
        ANALYTICS,
        LawfulBasis.LEGITIMATE_INTEREST,
        "Aggregate sales and marketing statistics",
        (Notice("2026-01", "Your enquiry counts towards our aggregate statistics."),),
    ),
    Purpose(
        THIRD_PARTY_SHARING,
        LawfulBasis.CONSENT,
        "Sharing your details with selected partners",
        (Notice("2026-01", "We may share your contact details with our named partners."),),
        opted_out_by_gpc=True,
    ),
)


class Purposes:
    """The configured purposes, by name."""

    def __init__(self, purposes: tuple[Purpose, ...]) -> None:
        self._by_name = {p.name: p for p in purposes}

    def __iter__(self) -> Any:
        return iter(self._by_name.values())

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def get(self, name: str) -> Purpose | None:
        return self._by_name.get(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._by_name)

    def with_basis(self, basis: LawfulBasis) -> tuple[Purpose, ...]:
        return tuple(p for p in self._by_name.values() if p.basis is basis)

    @classmethod
    def from_file(cls, path: Path) -> Purposes:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise PurposeConfigError(
                f"cannot read the purposes file: {type(error).__name__}"
            ) from None
        entries = document.get("purposes") if isinstance(document, dict) else None
        if not isinstance(entries, list) or not entries:
            raise PurposeConfigError("the purposes file needs a non-empty 'purposes' list")
        purposes = tuple(_purpose(i, entry) for i, entry in enumerate(entries))
        names = [p.name for p in purposes]
        if len(set(names)) != len(names):
            raise PurposeConfigError("purpose names must be unique")
        return cls(purposes)


def _purpose(index: int, entry: Any) -> Purpose:
    where = f"purposes[{index}]"
    if not isinstance(entry, dict):
        raise PurposeConfigError(f"{where} must be an object")
    name = entry.get("name")
    if not isinstance(name, str) or not name.isidentifier() or len(name) > 64:
        raise PurposeConfigError(f"{where}.name must be an identifier of at most 64 characters")
    try:
        basis = LawfulBasis(str(entry.get("basis")))
    except ValueError:
        allowed = ", ".join(b.value for b in LawfulBasis)
        raise PurposeConfigError(f"{where}.basis must be one of {allowed}") from None
    notices_raw = entry.get("notices")
    if not isinstance(notices_raw, list) or not notices_raw:
        raise PurposeConfigError(f"{where}.notices must be a non-empty list")
    notices: list[Notice] = []
    for n, notice in enumerate(notices_raw):
        if not (
            isinstance(notice, dict)
            and isinstance(notice.get("version"), str)
            and 0 < len(notice["version"]) <= 32
            and isinstance(notice.get("text"), str)
            and notice["text"].strip()
        ):
            raise PurposeConfigError(f"{where}.notices[{n}] needs a version and a text")
        notices.append(Notice(notice["version"], notice["text"]))
    if len({n.version for n in notices}) != len(notices):
        raise PurposeConfigError(f"{where}.notices versions must be unique")
    expires = entry.get("expires_after_days")
    if expires is not None and (not isinstance(expires, int) or expires < 1):
        raise PurposeConfigError(f"{where}.expires_after_days must be a positive integer")
    if expires is not None and basis is not LawfulBasis.CONSENT:
        raise PurposeConfigError(f"{where}.expires_after_days applies to consent purposes only")
    double = bool(entry.get("double_opt_in", False))
    if double and basis is not LawfulBasis.CONSENT:
        raise PurposeConfigError(f"{where}.double_opt_in applies to consent purposes only")
    return Purpose(
        name=name,
        basis=basis,
        description=str(entry.get("description", "")),
        notices=tuple(notices),
        expires_after_days=expires,
        opted_out_by_gpc=bool(entry.get("opted_out_by_gpc", False)),
        double_opt_in=double,
    )


_configured = Purposes(DEFAULT_PURPOSES)


def install_purposes(purposes: Purposes | None) -> None:
    """Make ``purposes`` the process's purposes (start-up; tests)."""
    global _configured
    _configured = purposes if purposes is not None else Purposes(DEFAULT_PURPOSES)


def purposes() -> Purposes:
    return _configured
