"""Round-robin assignment within a team, aware of each rep's capacity.

The team's active sales reps take turns in a fixed order (by id), starting after the rep who
got the team's previous lead. A rep whose open leads (owned, not yet customer or
disqualified, not converted) reach their ``max_open_leads`` is skipped; when every rep is at
capacity the lead stays unassigned and says so. The reason is recorded on the lead and the
team row is locked while choosing, so two processes never hand out the same turn.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise.functions import Count
from tortoise.transactions import in_transaction

from audit.events import Actor, Event, Outcome, record_many
from compliance.events.emit import emit
from core.errors import FieldError, NotFound, ValidationFailed
from identity.events import actor_of
from identity.models import StaffUser, Team
from identity.principal import Principal
from identity.roles import Role
from leads.enums import Stage, Status
from leads.events import assigned as assigned_to
from leads.followup import reassign_open_tasks
from leads.models import Lead
from leads.repository import LeadRepository

CLOSED_STAGES = (Stage.CUSTOMER, Stage.DISQUALIFIED)


@dataclass(frozen=True, slots=True)
class Assignment:
    lead_id: uuid.UUID
    owner_id: uuid.UUID | None
    reason: str


async def open_lead_counts(user_ids: Sequence[uuid.UUID]) -> Counter[uuid.UUID]:
    rows = (
        await Lead.filter(owner_id__in=list(user_ids))
        .exclude(stage__in=list(CLOSED_STAGES))
        .exclude(status=Status.CONVERTED)
        .group_by("owner_id")
        .annotate(n=Count("id"))
        .values_list("owner_id", "n")
    )
    return Counter({uuid.UUID(str(owner)): int(n) for owner, n in rows})


async def assign_round_robin(
    lead_ids: Sequence[uuid.UUID], team_id: int, actor: Actor, now: datetime
) -> list[Assignment]:
    """Assign ``lead_ids`` (in order) to the team's reps in turn; call inside a transaction."""
    team = await Team.filter(id=team_id).select_for_update().first()
    if team is None:
        return [Assignment(i, None, "team not found") for i in lead_ids]
    reps = (
        await StaffUser.filter(team_id=team_id, role=Role.SALES_REP, is_active=True)
        .order_by("id")
        .all()
    )
    counts = await open_lead_counts([r.id for r in reps])
    start = 0
    if team.last_assigned_id is not None:
        ids = [r.id for r in reps]
        start = next((n + 1 for n, i in enumerate(ids) if i == team.last_assigned_id), 0)
    done: list[Assignment] = []
    for lead_id in lead_ids:
        chosen: StaffUser | None = None
        for offset in range(len(reps)):
            rep = reps[(start + offset) % len(reps)]
            if rep.max_open_leads is None or counts[rep.id] < rep.max_open_leads:
                chosen, start = rep, (start + offset + 1) % len(reps)
                break
        if chosen is None:
            reason = (
                f"unassigned: no active rep in team {team_id}"
                if not reps
                else f"unassigned: all {len(reps)} reps of team {team_id} are at capacity"
            )
            done.append(Assignment(lead_id, None, reason))
            await Lead.filter(id=lead_id).update(assignment_reason=reason, team_id=team_id)
            continue
        counts[chosen.id] += 1
        limit = "no limit" if chosen.max_open_leads is None else f"max {chosen.max_open_leads}"
        reason = (
            f"round robin in team {team_id}: next rep with capacity "
            f"({counts[chosen.id]} open, {limit})"
        )
        await Lead.filter(id=lead_id).update(
            owner_id=chosen.id, team_id=team_id, assigned_at=now, assignment_reason=reason
        )
        await reassign_open_tasks(lead_id, chosen.id)
        team.last_assigned_id = chosen.id
        done.append(Assignment(lead_id, chosen.id, reason))
    await team.save(update_fields=["last_assigned_id"])
    assigned = [a for a in done if a.owner_id is not None]
    await emit([assigned_to(a.lead_id, a.owner_id, team_id) for a in assigned], now)
    if assigned:
        await record_many(
            [
                Event(
                    action="lead.assigned",
                    outcome=Outcome.SUCCESS,
                    actor=actor,
                    subject_ids=tuple(str(a.lead_id) for a in assigned),
                    fields=("owner_id",),
                    details={"team": team_id, "leads": len(assigned), "by": "round_robin"},
                )
            ],
            now=now,
        )
    return done


async def team_named(name: str | None) -> int | None:
    if not name:
        return None
    team = await Team.get_or_none(name=name)
    return team.id if team else None


async def assign_lead(principal: Principal, lead_id: uuid.UUID, now: datetime) -> Lead:
    """Hand a lead the principal may change to the next rep of its team with capacity."""
    repository = LeadRepository(principal, writing=True)
    async with in_transaction("default"):
        lead = await repository.get_for_update(lead_id)
        if lead is None:
            raise NotFound("lead")
        team_id = principal.team_id or lead.team_id
        if team_id is None:
            raise ValidationFailed(
                [FieldError("lead_id", "no_team", "the lead has no team to assign within")]
            )
        await assign_round_robin([lead.id], team_id, actor_of(principal), now)
        await lead.refresh_from_db()
    return lead
