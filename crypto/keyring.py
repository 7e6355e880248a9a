"""Versioned master keys and the purpose keys derived from them.

Master keys come from a :class:`MasterKeySource`: the ``LEADVAULT_MASTER_KEY`` variable
(``1:<base64 32 bytes>,2:<base64 32 bytes>``; the highest version is active), a key file
(JSON, mode 0600), or an external KMS implementing the same protocol. Every other key is
derived with HKDF-SHA256 for one named purpose (blind indexes, secrets that belong to no
lead, audit signing), so a key is never used for two things.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.files import write_private
from crypto.envelope import KEY_BYTES

HKDF_SALT = b"leadvault keyring v1"


class KeyringError(RuntimeError):
    """The keyring cannot be loaded; the message says why, never a key."""


class MasterKeySource(Protocol):
    """Where master keys live: environment, key file, or an external KMS."""

    @property
    def name(self) -> str: ...

    def load(self) -> dict[int, bytes]: ...


def _decode_key(encoded: str, where: str) -> bytes:
    try:
        key = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyringError(f"{where}: a master key is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise KeyringError(f"{where}: a master key must be {KEY_BYTES} bytes")
    return key


def _parse_version(text: str, where: str) -> int:
    try:
        version = int(text)
    except ValueError:
        raise KeyringError(f"{where}: key versions are positive whole numbers") from None
    if version < 1:
        raise KeyringError(f"{where}: key versions are positive whole numbers")
    return version


@dataclass(frozen=True)
class EnvironmentKeySource:
    """``LEADVAULT_MASTER_KEY=1:<base64>,2:<base64>`` (a lone key is version 1)."""

    value: str = field(repr=False)
    name: str = "LEADVAULT_MASTER_KEY"

    def load(self) -> dict[int, bytes]:
        keys: dict[int, bytes] = {}
        for part in (p for p in self.value.split(",") if p.strip()):
            version_text, sep, encoded = part.strip().partition(":")
            if not sep:
                version_text, encoded = "1", part
            version = _parse_version(version_text, self.name)
            if version in keys:
                raise KeyringError(f"{self.name}: key version {version} is given twice")
            keys[version] = _decode_key(encoded, self.name)
        if not keys:
            raise KeyringError(f"{self.name}: no master key given")
        return keys


@dataclass(frozen=True)
class FileKeySource:
    """A JSON key file ``{"keys": {"1": "<base64>"}}`` readable by its owner only."""

    path: Path

    @property
    def name(self) -> str:
        return f"key file {self.path}"

    def load(self) -> dict[int, bytes]:
        try:
            mode = self.path.stat().st_mode
        except FileNotFoundError:
            raise KeyringError(f"{self.name}: not found") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyringError(f"{self.name}: must not be readable by group or others (0600)")
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
            entries = document["keys"]
        except (ValueError, KeyError, TypeError):
            raise KeyringError(f"{self.name}: not a LeadVault key file") from None
        if not isinstance(entries, dict) or not entries:
            raise KeyringError(f"{self.name}: holds no keys")
        return {
            _parse_version(str(version), self.name): _decode_key(str(encoded), self.name)
            for version, encoded in entries.items()
        }

    def add_version(self) -> int:
        """Append a new random master key version and return it (key rotation)."""
        keys = self.load()
        version = max(keys) + 1
        keys[version] = os.urandom(KEY_BYTES)
        _write_key_file(self.path, keys)
        return version

    def remove_version(self, version: int) -> None:
        """Drop a retired master key version from the file (never the last one)."""
        keys = self.load()
        if version not in keys or len(keys) == 1:
            raise KeyringError(f"{self.name}: cannot remove version {version}")
        del keys[version]
        _write_key_file(self.path, keys)


def _write_key_file(path: Path, keys: Mapping[int, bytes]) -> None:
    document = {"keys": {str(v): base64.b64encode(k).decode() for v, k in sorted(keys.items())}}
    temporary = path.with_suffix(".tmp")
    write_private(temporary, json.dumps(document).encode())
    os.replace(temporary, path)


def create_key_file(path: Path) -> FileKeySource:
    """A new key file with one random master key, mode 0600. Refuses to overwrite."""
    if path.exists():
        raise KeyringError(f"key file {path}: already exists")
    _write_key_file(path, {1: os.urandom(KEY_BYTES)})
    return FileKeySource(path)


class Keyring:
    """The master key versions in use and the purpose keys derived from them."""

    def __init__(self, master_keys: Mapping[int, bytes]) -> None:
        if not master_keys:
            raise KeyringError("the keyring needs at least one master key")
        self._keys = dict(master_keys)
        self._derived: dict[tuple[str, int], bytes] = {}

    def __repr__(self) -> str:
        return f"Keyring(versions={self.versions})"

    @property
    def versions(self) -> list[int]:
        return sorted(self._keys)

    @property
    def active_version(self) -> int:
        return max(self._keys)

    def master_key(self, version: int) -> bytes:
        try:
            return self._keys[version]
        except KeyError:
            raise KeyringError(f"master key version {version} is not configured") from None

    def derive(self, purpose: str, version: int | None = None) -> bytes:
        """A 32-byte key for ``purpose`` from master key ``version`` (default: active)."""
        chosen = self.active_version if version is None else version
        cached = self._derived.get((purpose, chosen))
        if cached is None:
            cached = HKDF(
                algorithm=hashes.SHA256(),
                length=KEY_BYTES,
                salt=HKDF_SALT,
                info=f"leadvault/{purpose}/v{chosen}".encode(),
            ).derive(self.master_key(chosen))
            self._derived[(purpose, chosen)] = cached
        return cached


def key_file_path(environ: Mapping[str, str], data_dir: Path) -> Path | None:
    """The key file master keys come from, or None when ``LEADVAULT_MASTER_KEY`` gives them."""
    if environ.get("LEADVAULT_MASTER_KEY", "").strip():
        return None
    return Path(environ.get("LEADVAULT_MASTER_KEY_FILE", "") or data_dir / "master.key")


def load_keyring(
    environ: Mapping[str, str], data_dir: Path, *, development: bool
) -> tuple[Keyring, str]:
    """The keyring and a line saying where it came from.

    Order: ``LEADVAULT_MASTER_KEY``, then ``LEADVAULT_MASTER_KEY_FILE`` (default
    ``<data dir>/master.key``). Production refuses to start without one; development creates
    the key file (mode 0600) and says so.
    """
    path = key_file_path(environ, data_dir)
    if path is None:
        source: MasterKeySource = EnvironmentKeySource(environ["LEADVAULT_MASTER_KEY"])
        return Keyring(source.load()), f"master keys from {source.name}"
    if path.exists():
        file_source = FileKeySource(path)
        return Keyring(file_source.load()), f"master keys from {file_source.name}"
    if not development:
        raise KeyringError(
            "no master key: set LEADVAULT_MASTER_KEY or LEADVAULT_MASTER_KEY_FILE "
            "(production never generates one)"
        )
    created = create_key_file(path)
    return Keyring(created.load()), f"created a development master key file at {path} (0600)"
