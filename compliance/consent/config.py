"""Consent settings the domain needs at run time, installed once at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class ConsentConfig:
    public_url: str = "http://127.0.0.1:8000"
    """Where the people's own pages live; links in messages start with it."""
    link_lifetime: timedelta = timedelta(days=30)
    confirmation_lifetime: timedelta = timedelta(hours=72)

    def link(self, path: str, token: str) -> str:
        return f"{self.public_url.rstrip('/')}/{path}?token={token}"


_config = ConsentConfig()


def install_consent_config(config: ConsentConfig | None) -> None:
    global _config
    _config = config if config is not None else ConsentConfig()


def consent_config() -> ConsentConfig:
    return _config
