"""Declared purpose of access.

A request may declare why it reads personal data with the ``X-LeadVault-Purpose`` header,
``<kind>:<reference>`` (for example ``data_subject_request:6f1c…``). The provider for that
kind decides whether the purpose is open to this principal and which leads it covers; the
row scope and the field rules of roles that need a purpose use exactly those leads. A
purpose nobody provides, or one the provider refuses, fails the request.
"""

from __future__ import annotations

import re
import uuid
from typing import Protocol

from identity.principal import Principal

PURPOSE_HEADER = "x-leadvault-purpose"
_SHAPE = re.compile(r"^([a-z_]{1,40}):([A-Za-z0-9-]{1,64})$")


class PurposeRefused(Exception):
    """The declared purpose is malformed, unknown, closed or not the principal's."""

    def __init__(self) -> None:
        super().__init__(
            "the declared purpose is not one you may act under "
            "(it must be open and assigned to you)"
        )


class PurposeProvider(Protocol):
    kind: str

    async def subjects(self, principal: Principal, reference: str) -> frozenset[uuid.UUID] | None:
        """The leads the purpose covers, or None if it is not open to ``principal``."""
        ...


_providers: dict[str, PurposeProvider] = {}


def register_purpose_provider(provider: PurposeProvider) -> PurposeProvider | None:
    """Install ``provider`` for its kind; returns the one it replaced, if any."""
    previous = _providers.get(provider.kind)
    _providers[provider.kind] = provider
    return previous


def unregister_purpose_provider(kind: str) -> None:
    _providers.pop(kind, None)


def parse(declared: str) -> tuple[str, str]:
    match = _SHAPE.match(declared.strip())
    if match is None:
        raise PurposeRefused
    return match.group(1), match.group(2)


async def resolve(principal: Principal, declared: str) -> tuple[str, frozenset[uuid.UUID]]:
    """The normalised purpose and the leads it covers; raises :class:`PurposeRefused`."""
    kind, reference = parse(declared)
    provider = _providers.get(kind)
    if provider is None or principal.is_service:
        raise PurposeRefused
    subjects = await provider.subjects(principal, reference)
    if subjects is None:
        raise PurposeRefused
    return f"{kind}:{reference}", subjects
