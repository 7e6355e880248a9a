"""Where field decisions learn which leads consented to a purpose.

The consent ledger plugs in here with :func:`install_consent_lookup`. Until a ledger is
installed no lead has consented to anything, so every rule that needs consent falls back
to its mask or denial: the safe side.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Protocol


class ConsentLookup(Protocol):
    async def consented(self, lead_ids: Sequence[uuid.UUID], purpose: str) -> set[uuid.UUID]:
        """The subset of ``lead_ids`` whose current consent state allows ``purpose``."""
        ...


class NoConsentRecorded:
    async def consented(self, lead_ids: Sequence[uuid.UUID], purpose: str) -> set[uuid.UUID]:
        return set()


_lookup: ConsentLookup = NoConsentRecorded()


def install_consent_lookup(lookup: ConsentLookup | None) -> None:
    global _lookup
    _lookup = lookup if lookup is not None else NoConsentRecorded()


def consent_lookup() -> ConsentLookup:
    return _lookup
