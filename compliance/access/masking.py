"""Masking strategies: small classes in a registry, each with a name the policy uses.

Every masked value contains ``•`` (U+2022), and the response lists the path of every
masked field under ``extensions.access.masked``, so a front end never mistakes a mask for
the real value.
"""

from __future__ import annotations

import base64
import uuid
from typing import ClassVar, Protocol

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

MASK_CHAR = "•"


class Masking(Protocol):
    name: ClassVar[str]

    def apply(self, value: str) -> str: ...


class EmailMask:
    """``jane.doe@example.com`` → ``j•••@example.com``: the domain stays (it is the
    company's), the local part keeps its first character."""

    name: ClassVar[str] = "email"

    def apply(self, value: str) -> str:
        local, at, domain = value.rpartition("@")
        if not at or not local:
            return MASK_CHAR * 3
        return f"{local[0]}{MASK_CHAR * 3}@{domain}"


class PhoneMask:
    """``+44 20 7946 0912`` → ``•••• ••12``: only the last two digits stay."""

    name: ClassVar[str] = "phone"

    def apply(self, value: str) -> str:
        digits = [c for c in value if c.isdigit()]
        return f"{MASK_CHAR * 4} {MASK_CHAR * 2}{''.join(digits[-2:])}"


class InitialMask:
    """``Jane`` → ``J•••``."""

    name: ClassVar[str] = "initial"

    def apply(self, value: str) -> str:
        return f"{value[:1]}{MASK_CHAR * 3}" if value else value


class PseudonymMask:
    """A lead id → ``psn_…``: the id's 16 bytes enciphered as one AES-256 block under a
    key derived from the master key. Stable for the same lead (so rows can be counted and
    joined across queries), meaningless without the key, and reversible with it, so a
    pseudonymous reader can open a lead by its pseudonym (:meth:`resolve`) without ever
    learning its id."""

    name: ClassVar[str] = "pseudonym"
    PREFIX: ClassVar[str] = "psn_"

    def __init__(self, key: bytes) -> None:
        self._cipher = Cipher(algorithms.AES(key), modes.ECB())  # noqa: S305 - one block: a keyed permutation

    def apply(self, value: str) -> str:
        encryptor = self._cipher.encryptor()
        block = encryptor.update(uuid.UUID(value).bytes) + encryptor.finalize()
        return self.PREFIX + base64.b32encode(block).decode().rstrip("=").lower()

    def resolve(self, pseudonym: str) -> uuid.UUID | None:
        """The lead id behind ``pseudonym``, or None for anything that is not one."""
        if not pseudonym.startswith(self.PREFIX):
            return None
        body = pseudonym[len(self.PREFIX) :].upper()
        try:
            block = base64.b32decode(body + "=" * (-len(body) % 8))
        except ValueError:
            return None
        if len(block) != 16:
            return None
        decryptor = self._cipher.decryptor()
        return uuid.UUID(bytes=decryptor.update(block) + decryptor.finalize())


class UnknownMask(KeyError):
    pass


class Maskers:
    """The registry: name → strategy."""

    def __init__(self, strategies: list[Masking]) -> None:
        self._by_name = {s.name: s for s in strategies}

    @classmethod
    def default(cls, pseudonym_key: bytes) -> Maskers:
        return cls([EmailMask(), PhoneMask(), InitialMask(), PseudonymMask(pseudonym_key)])

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self._by_name)

    def apply(self, name: str, value: str) -> str:
        try:
            strategy = self._by_name[name]
        except KeyError:
            raise UnknownMask(name) from None
        return strategy.apply(value)
