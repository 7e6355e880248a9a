"""Reading typed settings from ``LEADVAULT_*`` environment variables. Errors name the
variable and the rule, never the value (values may be secrets)."""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

PREFIX = "LEADVAULT_"
_E = TypeVar("_E", bound=enum.StrEnum)
_DB_SCHEMES = ("sqlite", "postgres", "asyncpg")


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names it."""


class EnvReader:
    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def _raw(self, name: str) -> str | None:
        value = self._environ.get(PREFIX + name)
        if value is None or value.strip() == "":
            return None
        return value.strip()

    def text(self, name: str, default: str) -> str:
        return self._raw(name) or default

    def optional_path(self, name: str) -> Path | None:
        raw = self._raw(name)
        return Path(raw) if raw else None

    def database_url(self, name: str, default: str) -> str:
        url = self.text(name, default)
        scheme = url.split("://", 1)[0] if "://" in url else ""
        if scheme not in _DB_SCHEMES:
            raise SettingsError(
                f"{PREFIX}{name}: must start with sqlite://, postgres:// or asyncpg://"
            )
        return url

    def optional_database_url(self, name: str) -> str:
        return self.database_url(name, "") if self._raw(name) else ""

    def secret_text(self, name: str, *, minimum_length: int) -> str:
        raw = self._raw(name) or ""
        if raw and len(raw) < minimum_length:
            raise SettingsError(f"{PREFIX}{name}: must be at least {minimum_length} characters")
        return raw

    def integer(self, name: str, default: int, *, minimum: int, maximum: int) -> int:
        raw = self._raw(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"{PREFIX}{name}: must be a whole number") from None
        if not minimum <= value <= maximum:
            raise SettingsError(f"{PREFIX}{name}: must be between {minimum} and {maximum}")
        return value

    def flag(self, name: str, default: bool) -> bool:
        raw = self._raw(name)
        if raw is None:
            return default
        lowered = raw.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise SettingsError(f"{PREFIX}{name}: must be true or false")

    def choice(self, name: str, kind: type[_E], default: _E) -> _E:
        raw = self._raw(name)
        if raw is None:
            return default
        try:
            return kind(raw.lower())
        except ValueError:
            allowed = ", ".join(member.value for member in kind)
            raise SettingsError(f"{PREFIX}{name}: must be one of {allowed}") from None

    def choice_str(self, name: str, allowed: tuple[str, ...], default: str) -> str:
        raw = self._raw(name)
        if raw is None:
            return default
        if raw.upper() not in allowed:
            raise SettingsError(f"{PREFIX}{name}: must be one of {', '.join(allowed)}")
        return raw.upper()

    def addresses(self, name: str) -> tuple[str, ...]:
        raw = self._raw(name)
        if raw is None:
            return ()
        addresses = tuple(part.strip() for part in raw.split(",") if part.strip())
        for address in addresses:
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise SettingsError(
                    f"{PREFIX}{name}: each entry must be an IP address such as 10.0.0.5"
                ) from None
        return addresses

    def public_url(self, name: str, default: str) -> str:
        url = self.text(name, default).rstrip("/")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SettingsError(f"{PREFIX}{name}: must look like https://consent.example.com")
        return url

    def origins(self, name: str) -> tuple[str, ...]:
        raw = self._raw(name)
        if raw is None:
            return ()
        origins = tuple(part.strip().rstrip("/") for part in raw.split(",") if part.strip())
        for origin in origins:
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
                raise SettingsError(
                    f"{PREFIX}{name}: each origin must look like https://app.example.com"
                )
        return origins
