"""What every command shares: settings from the environment, and running a coroutine with
key problems reported as a message and exit status 2."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from typing import Any

from server.settings import Environment, Settings, SettingsError


def settings(default_env: Environment | None = None) -> Settings:
    try:
        return Settings.from_env(default_env=default_env)
    except SettingsError as error:
        print(f"leadvault: invalid configuration: {error}", file=sys.stderr)
        raise SystemExit(2) from None


def run(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run a command; a key problem ends it with its message and exit status 2."""
    from crypto.keyring import KeyringError

    try:
        asyncio.run(coroutine)
    except KeyringError as error:
        print(f"leadvault: {error}", file=sys.stderr)
        raise SystemExit(2) from None
