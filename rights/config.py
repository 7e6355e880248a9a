"""Settings the request workflow reads, installed once at start-up (defaults for tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path


@dataclass(frozen=True, slots=True)
class DsrConfig:
    holidays: frozenset[date] = frozenset()
    """Days that are not business days for CCPA acknowledgement (besides weekends)."""
    code_lifetime: timedelta = timedelta(minutes=30)
    code_attempts: int = 5
    step_up_window: timedelta = timedelta(minutes=10)
    export_dir: Path = Path("data/exports")
    export_lifetime: timedelta = timedelta(days=7)
    link_lifetime: timedelta = timedelta(hours=24)
    public_url: str = "http://127.0.0.1:8000"
    controller: str = "LeadVault operator"
    recipients: tuple[str, ...] = field(default_factory=tuple)


_config = DsrConfig()


def install_dsr_config(config: DsrConfig | None) -> None:
    global _config
    _config = config if config is not None else DsrConfig()


def dsr_config() -> DsrConfig:
    return _config


def parse_holidays(text: str) -> frozenset[date]:
    """``2026-12-25,2027-01-01`` → dates; the error names the rule, not the entry."""
    try:
        return frozenset(date.fromisoformat(p.strip()) for p in text.split(",") if p.strip())
    except ValueError:
        raise ValueError("each entry must be a date like 2026-12-25") from None
