"""What one request has been allowed to see, decided field by field."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from compliance.access.consent import consent_lookup
from compliance.access.decide import Decision, Decisions, Subject, decide, needs_consent
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
        self.decisions = Decisions(principal)

    @classmethod
    def copied(cls, principal: Principal, other: RequestAccess) -> RequestAccess:
        """A record for ``principal`` of what ``other`` decided and showed (a subscription
        payload resolved once for every subscriber with the same reading view: each
        subscriber's audit event and masked-value report come from its own copy)."""
        access = cls(principal)
        for lead_id, fields in other.seen.items():
            access.seen[lead_id].update(fields)
        for lead_id, names in other.break_glass.items():
            access.break_glass[lead_id].update(names)
        access.masked = [dict(entry) for entry in other.masked]
        return access

    async def decide(self, policy: FieldPolicy, subject: Subject) -> Decision:
        """One value's decision (the field-access extension asks per value)."""
        return (await self.decide_many(policy, [subject]))[0]

    async def decide_many(self, policy: FieldPolicy, subjects: Sequence[Subject]) -> list[Decision]:
        """Every row's decision for one field, through the one batch decision function; a
        consent the rule depends on is looked up once per request and lead."""
        purpose = needs_consent(self.principal, policy)
        consented: set[uuid.UUID] = set()
        if purpose is not None and subjects:
            consented = await self.consented(purpose, [s.lead_id for s in subjects])
        return self.decisions.decide_all(policy, subjects, consented)

    async def consented(self, purpose: str, lead_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """Which of ``lead_ids`` consent to ``purpose`` now (batched and cached per request)."""
        answers = await self._consent_loader(purpose).load_many(lead_ids)
        return {lead_id for lead_id, agreed in zip(lead_ids, answers, strict=True) if agreed}

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
