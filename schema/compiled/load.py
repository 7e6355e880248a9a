"""One batch per root field: the page's related rows, consents and keys, each loaded in one
statement, and the decisions read from them."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from graphql.execution.values import VariableValues, get_argument_values
from tortoise.models import Model

from compliance.access.decide import Decision, Subject
from compliance.access.rules import Access, FieldPolicy
from compliance.consent import ledger
from compliance.consent.purposes import PROFILING
from compliance.consent.state import consented_ids, current_states
from core.cursors import InvalidCursor, Page
from crypto.envelope import CiphertextError
from crypto.vault import current_vault
from leads import repository
from leads.models import subject_of
from leads.scoring import service as scoring
from leads.tasks import tasks_for
from schema.access.state import RequestAccess
from schema.compiled.complete import Fallback
from schema.compiled.fields import DECRYPTING, LEAD_FIELDS, Needs
from schema.compiled.plan import FieldPlan, Kind, ObjectPlan
from schema.leads.related import MAX_NESTED_ACTIVITIES

T = TypeVar("T")


class Batch:
    """What a page of leads needs, loaded once: related rows, consents, keys, the count."""

    def __init__(
        self, access: RequestAccess, rows: Sequence[Any], variables: VariableValues
    ) -> None:
        self.access = access
        self.rows = rows
        self.variables = variables
        self.subjects: dict[uuid.UUID, Subject] = {row.id: subject_of(row) for row in rows}
        self.owners: dict[Any, Any] = {}
        self.teams: dict[Any, Any] = {}
        self.campaigns: dict[Any, Any] = {}
        self.stage_history: dict[uuid.UUID, list[Any]] = {}
        self.tasks: dict[uuid.UUID, list[Any]] = {}
        self.consent_states: dict[uuid.UUID, dict[str, Any]] = {}
        self.consent_history: dict[uuid.UUID, list[Any]] = {}
        self.score_history: dict[uuid.UUID, list[Any]] = {}
        self.profiled: set[uuid.UUID] = set()
        self.keys: dict[uuid.UUID, bytes] = {}
        self.consented: dict[str, set[uuid.UUID]] = {}
        self.total: int | None = None
        self._pages: dict[tuple[int, str | None, bool, bool], dict[uuid.UUID, Page[Any]]] = {}
        self._made: dict[tuple[str, int], tuple[Any, Any]] = {}
        self._windows: dict[int, tuple[int, str | None, bool, bool]] = {}

    def subject(self, row: Any) -> Subject:
        return self.subjects[row.id]

    def decide(self, policy: FieldPolicy, subject: Subject) -> Decision:
        decisions = self.access.decisions
        purpose = decisions.purpose_of(policy)
        consented = self.consented.get(purpose, ()) if purpose is not None else ()
        return decisions.decide_one(policy, subject, consented)

    def activity_page(self, plan: FieldPlan, lead_id: uuid.UUID) -> Page[Any]:
        return self._pages[self._windows[id(plan)]][lead_id]

    def key_of(self, lead_id: uuid.UUID) -> bytes | None:
        return self.keys.get(lead_id)

    def open(
        self, model: type[Model], field: str, row_id: object, blob: Any, subject: uuid.UUID
    ) -> str | None:
        return self.guarded(
            lambda: current_vault().open_value(model, field, row_id, blob, self.keys.get(subject))
        )

    def once(self, make: Callable[[Any], T], row: Any) -> T:
        """``make(row)``, built once per batch (many leads share an owner, a team or a
        campaign; the response reads the same object for each)."""
        key = (make.__qualname__, id(row))
        found = self._made.get(key)
        if found is None:
            found = self._made[key] = (row, make(row))
        made: T = found[1]
        return made

    @staticmethod
    def guarded(open_: Callable[[], T]) -> T:
        """A stored value that fails authentication is answered by the general executor
        (its ``DATA_INTEGRITY`` error at the field's path)."""
        try:
            return open_()
        except CiphertextError:
            raise Fallback from None

    async def load(self, objects: Iterable[ObjectPlan]) -> None:
        """Load what the plans' lead objects (and everything under them) read."""
        plans = list(objects)
        if not self.rows or not plans:
            return
        lead_fields = [f for o in plans if o.type_name == "Lead" for f in o.fields]
        needs = {n for f in lead_fields if f.kind == Kind.LEAD for n in LEAD_FIELDS[f.name].needs}
        ids = [row.id for row in self.rows]
        await self._relations(needs, ids)
        for plan in lead_fields:
            if plan.name == "activities":
                await self._activities(plan, ids)
        await self._consents(plans, ids)
        await self._keys(plans)

    async def _relations(self, needs: set[str], ids: list[uuid.UUID]) -> None:
        rows = self.rows
        if Needs.OWNERS in needs:
            self.owners = await repository.staff_by_ids(
                r.owner_id for r in rows if r.owner_id is not None
            )
        if Needs.TEAMS in needs:
            self.teams = await repository.teams_by_ids(
                r.team_id for r in rows if r.team_id is not None
            )
        if Needs.CAMPAIGNS in needs:
            self.campaigns = await repository.campaigns_by_ids(
                r.campaign_id for r in rows if r.campaign_id is not None
            )
        if Needs.STAGE_HISTORY in needs:
            self.stage_history = await repository.stage_changes_for(ids)
        if Needs.TASKS in needs:
            self.tasks = await tasks_for(ids)
        if Needs.CONSENT_HISTORY in needs:
            self.consent_history = await ledger.history(ids)
        if Needs.CONSENT_STATES in needs:
            self.consent_states = await current_states(ids)
            now = datetime.now(UTC)
            for lead_id, states in self.consent_states.items():
                state = states.get(PROFILING)
                if state is not None and state.allows(now):
                    self.profiled.add(lead_id)
        elif Needs.PROFILING in needs:
            self.profiled = await consented_ids(ids, PROFILING)
        if Needs.SCORE_HISTORY in needs and self.profiled:
            self.score_history = await scoring.history_for([i for i in ids if i in self.profiled])

    async def _activities(self, plan: FieldPlan, ids: list[uuid.UUID]) -> None:
        assert plan.gql_field is not None
        args = get_argument_values(plan.gql_field, plan.nodes[0], self.variables)
        first, after = args.get("first", 10), args.get("after")
        if not 1 <= first <= MAX_NESTED_ACTIVITIES:
            raise Fallback
        binding = self.access.principal.cursor_binding
        sealed = plan.child is not None and plan.child.shows_cursors()
        details = plan.child is not None and any(
            f.name == "details" for o in plan.child.objects("Activity") for f in o.fields
        )
        window = (first, after, sealed, details)
        self._windows[id(plan)] = window
        if window in self._pages:
            return
        try:
            self._pages[window] = await repository.activity_pages(
                ids, first, after, binding, sealed=sealed, details=details
            )
        except InvalidCursor:
            raise Fallback from None

    async def _consents(self, plans: list[ObjectPlan], ids: list[uuid.UUID]) -> None:
        decisions = self.access.decisions
        purposes = {
            decisions.purpose_of(f.policy)
            for o in plans
            for _, f in o.walk()
            if f.policy is not None
        }
        for purpose in sorted(p for p in purposes if p is not None):
            self.consented[purpose] = await self.access.consented(purpose, ids)

    async def _keys(self, plans: list[ObjectPlan]) -> None:
        """The data keys of the subjects whose encrypted values will be opened: an allowed
        (revealed or masked) field with a stored value."""
        wanted: set[uuid.UUID] = set()
        for owner, plan in (pair for o in plans for pair in o.walk()):
            column = DECRYPTING.get((owner.type_name, plan.name))
            if plan.policy is None or column is None:
                continue
            for lead_id, blob in self._stored(owner.type_name, column):
                if lead_id not in wanted and blob is not None:
                    decision = self.decide(plan.policy, self.subjects[lead_id])
                    if decision.access is not Access.DENY:
                        wanted.add(lead_id)
        if wanted:
            self.keys = await current_vault().subject_keys(sorted(wanted))

    def _stored(self, type_name: str, column: str) -> Iterable[tuple[uuid.UUID, Any]]:
        """(lead id, stored value) of every row of this type the batch holds."""
        rows: Iterable[Any]
        if type_name == "Lead":
            return ((row.id, getattr(row, column)) for row in self.rows)
        held = self.stage_history if type_name == "StageChange" else self.consent_history
        rows = (r for group in held.values() for r in group)
        return ((r.lead_id, getattr(r, column)) for r in rows)
