"""Per-request DataLoaders: a page of N leads costs a constant number of queries."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from compliance.consent import ledger
from compliance.consent import state as consent_state
from compliance.consent.models import ConsentEvent
from compliance.consent.state import CurrentConsent
from core.cursors import InvalidCursor, Page
from crypto.vault import current_vault
from identity.models import StaffUser, Team
from leads import repository
from leads.models import Campaign, StageChange, Task
from leads.repository import ActivityRow
from leads.scoring import service as scoring
from leads.scoring.models import ScoreHistory
from leads.tasks import tasks_for
from rights.subjects import subject_ids_of

ActivityKey = tuple[uuid.UUID, int, str | None]


async def _load_activity_pages(
    keys: Sequence[ActivityKey], binding: str
) -> list[Page[ActivityRow] | InvalidCursor]:
    """Pages per (first, after) window; a window whose cursor is refused answers its keys
    with the refusal (the other windows still load)."""
    by_window: dict[tuple[int, str | None], list[uuid.UUID]] = defaultdict(list)
    for lead_id, first, after in keys:
        by_window[(first, after)].append(lead_id)
    found: dict[ActivityKey, Page[ActivityRow] | InvalidCursor] = {}
    for (first, after), lead_ids in by_window.items():
        try:
            pages = await repository.activity_pages(lead_ids, first, after, binding)
        except InvalidCursor as refused:
            found.update({(lead_id, first, after): refused for lead_id in lead_ids})
            continue
        for lead_id, page in pages.items():
            found[(lead_id, first, after)] = page
    return [found[key] for key in keys]


async def _load_stage_history(keys: Sequence[uuid.UUID]) -> list[list[StageChange]]:
    grouped = await repository.stage_changes_for(keys)
    return [grouped.get(key, []) for key in keys]


async def _load_subject_keys(keys: Sequence[uuid.UUID]) -> list[bytes | None]:
    found = await current_vault().subject_keys(keys)
    return [found.get(key) for key in keys]


async def _load_staff(keys: Sequence[uuid.UUID]) -> list[StaffUser | None]:
    found = await repository.staff_by_ids(keys)
    return [found.get(key) for key in keys]


async def _load_campaigns(keys: Sequence[int]) -> list[Campaign | None]:
    found = await repository.campaigns_by_ids(keys)
    return [found.get(key) for key in keys]


async def _load_teams(keys: Sequence[int]) -> list[Team | None]:
    found = await repository.teams_by_ids(keys)
    return [found.get(key) for key in keys]


async def _load_consent_states(keys: Sequence[uuid.UUID]) -> list[dict[str, CurrentConsent]]:
    found = await consent_state.current_states(keys)
    return [found.get(key, {}) for key in keys]


async def _load_consent_history(keys: Sequence[uuid.UUID]) -> list[list[ConsentEvent]]:
    found = await ledger.history(keys)
    return [found.get(key, []) for key in keys]


SCORE_HISTORY_DEPTH = scoring.HISTORY_DEPTH


async def _load_score_history(keys: Sequence[uuid.UUID]) -> list[list[ScoreHistory]]:
    found = await scoring.history_for(keys)
    return [found.get(key, []) for key in keys]


async def _load_tasks(keys: Sequence[uuid.UUID]) -> list[list[Task]]:
    found = await tasks_for(keys)
    return [found.get(key, []) for key in keys]


async def _load_request_subjects(keys: Sequence[uuid.UUID]) -> list[list[uuid.UUID]]:
    found = await subject_ids_of(keys)
    return [found.get(key, []) for key in keys]


class Loaders:
    def __init__(self, cursor_binding: str) -> None:
        """``cursor_binding``: the principal pagination cursors are bound to."""

        async def activity_pages(
            keys: Sequence[ActivityKey],
        ) -> list[Page[ActivityRow] | InvalidCursor]:
            return await _load_activity_pages(keys, cursor_binding)

        self.activity_pages: DataLoader[ActivityKey, Page[ActivityRow]] = DataLoader(
            load_fn=activity_pages
        )
        self.stage_history = DataLoader(load_fn=_load_stage_history)
        self.staff = DataLoader(load_fn=_load_staff)
        self.campaigns = DataLoader(load_fn=_load_campaigns)
        self.teams = DataLoader(load_fn=_load_teams)
        self.subject_keys = DataLoader(load_fn=_load_subject_keys)
        self.consent_states = DataLoader(load_fn=_load_consent_states)
        self.consent_history = DataLoader(load_fn=_load_consent_history)
        self.score_history = DataLoader(load_fn=_load_score_history)
        self.tasks = DataLoader(load_fn=_load_tasks)
        self.request_subjects = DataLoader(load_fn=_load_request_subjects)
