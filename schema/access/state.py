"""What one request has been allowed to see, decided field by field."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from compliance.access.consent import consent_lookup
from compliance.access.decide import Decision, Subject, decide, needs_consent
from compliance.access.masking import Maskers, PseudonymMask
from compliance.access.policy import required_policy
from compliance.access.rules import Access, FieldPolicy
from crypto.vault import current_vault
from identity.principal import Principal

PSEUDONYM_PURPOSE = "pseudonym"


def pseudonym_candidates(pseudonym: str) -> list[uuid.UUID]:
    """The lead ids ``pseudonym`` stands for under each configured master version (the
    active one first): a pseudonym handed out before a key rotation still opens its lead."""
    keyring = current_vault().keyring
    found = []
    for version in sorted(keyring.versions, reverse=True):
        lead_id = PseudonymMask(keyring.derive(PSEUDONYM_PURPOSE, version)).resolve(pseudonym)
        if lead_id is not None:
            found.append(lead_id)
    return found


def id_is_pseudonymous(principal: Principal, subject: Subject) -> bool:
    """Whether ``principal`` sees this lead's id only as a pseudonym (and so may not look
    it up by its real id)."""
    decision = decide(principal, required_policy("Lead", "id"), subject)
    return decision.access is Access.MASK


class RequestAccess:
    """Decisions for one request, and the record of them: which fields of which leads were
    revealed, masked or denied (for the audit trail), the paths of masked values (for the
    response), and what only a break-glass grant revealed."""

    def __init__(self, principal: Principal) -> None:
        self.principal = principal
        self.maskers = Maskers.default(current_vault().keyring.derive(PSEUDONYM_PURPOSE))
        self.masked: list[dict[str, object]] = []
        self.seen: dict[uuid.UUID, dict[str, Access]] = defaultdict(dict)
        self.break_glass: dict[uuid.UUID, set[str]] = defaultdict(set)
        self._consents: dict[str, DataLoader[uuid.UUID, bool]] = {}

    async def decide(self, policy: FieldPolicy, subject: Subject) -> Decision:
        purpose = needs_consent(self.principal, policy)
        consents: frozenset[str] = frozenset()
        if purpose is not None and await self._consent_loader(purpose).load(subject.lead_id):
            consents = frozenset({purpose})
        return decide(self.principal, policy, subject, consents)

    def note(self, subject: Subject, field: str, decision: Decision) -> None:
        self.seen[subject.lead_id][field] = decision.access
        if decision.break_glass:
            self.break_glass[subject.lead_id].add(field)

    def note_masked(self, path: list[str | int], strategy: str) -> None:
        self.masked.append({"path": path, "mask": strategy})

    def _consent_loader(self, purpose: str) -> DataLoader[uuid.UUID, bool]:
        loader = self._consents.get(purpose)
        if loader is None:

            async def load(ids: Sequence[uuid.UUID]) -> list[bool]:
                granted = await consent_lookup().consented(list(ids), purpose)
                return [i in granted for i in ids]

            loader = DataLoader(load_fn=load)
            self._consents[purpose] = loader
        return loader
