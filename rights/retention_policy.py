"""How long each category of data is kept: the configured retention rules, read by the
retention job, the record of processing and access exports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from compliance.categories import DataCategory


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    lead_months: int = 24
    """An unconverted lead with no engagement for this long is erased."""
    activity_months: int = 25
    session_days: int = 90
    export_days: int = 7
    audit_days: int = 2192

    def describe(self) -> list[dict[str, Any]]:
        return [
            {
                "category": DataCategory.LEADS.value,
                "rule": "leads never converted (not opportunity or customer) with no engagement "
                "are erased (anonymised, key shredded)",
                "period": f"{self.lead_months} months after the last engagement",
            },
            {
                "category": DataCategory.ACTIVITIES.value,
                "rule": "engagement events are deleted",
                "period": f"{self.activity_months} months after they happened",
            },
            {
                "category": DataCategory.SESSIONS.value,
                "rule": "staff sessions and sign-in throttle counters are deleted",
                "period": f"{self.session_days} days after they ended",
            },
            {
                "category": DataCategory.EXPORTS.value,
                "rule": "access and portability export files are deleted and their keys shredded",
                "period": f"{self.export_days} days after they were generated",
            },
            {
                "category": DataCategory.AUDIT_EVENTS.value,
                "rule": "audit events (which hold no personal values) are deleted from the oldest "
                "end of the hash chain, which stays verifiable; sign-in events are audit events "
                "and are kept with them",
                "period": f"{self.audit_days} days",
            },
        ]


_policy = RetentionPolicy()


def install_retention_policy(policy: RetentionPolicy | None) -> None:
    global _policy
    _policy = policy if policy is not None else RetentionPolicy()


def retention_policy() -> RetentionPolicy:
    return _policy
