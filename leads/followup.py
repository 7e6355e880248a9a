"""Follow-up: the welcome message, the first-contact SLA, speed-to-lead and the cadence.

- A new lead with an email address gets a welcome message with a next step, through the
  outbox, only while its consent state allows sales contact (a person who objected gets
  nothing).
- A lead that becomes sales-qualified gets ``sql_at`` and a first-contact task for its owner,
  due within the SLA of its source (one hour unless configured).
- The first human touch (call, meeting, email sent) after that is the lead's
  ``first_touch_at``; speed-to-lead is ``first_touch_at − sql_at``. It completes the
  first-contact task and lays out the suggested cadence: a touch 24–48 hours later, then
  touches spread over the following two weeks. Each later touch completes the next open
  cadence task.
- A task is breached when done after its due time, or still open past it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from audit.events import Actor, Event, Outcome, Target, record
from compliance.consent import state as consent_state
from compliance.consent.purposes import SALES_CONTACT
from compliance.outbox import enqueue
from core.bulk import insert_dicts
from core.ids import new_id
from leads.enums import Source
from leads.models import Lead, Task, TaskKind

WELCOME_TEMPLATE = "welcome"
DEFAULT_CADENCE_HOURS: tuple[int, ...] = (48, 96, 168, 240, 336)
"""Due times of the follow-up touches after the first touch: the second touch within 48 h
(from 24 h on), then days 4, 7, 10 and 14 — six touches in two weeks."""


@dataclass(frozen=True, slots=True)
class FollowUpConfig:
    sla: timedelta = timedelta(hours=1)
    sla_by_source: Mapping[str, timedelta] = field(default_factory=dict)
    cadence_hours: tuple[int, ...] = DEFAULT_CADENCE_HOURS
    cold_after: timedelta = timedelta(days=30)
    intake_team: str | None = None
    welcome_next_step: str = "Reply to this message to book a 20-minute call with our team."

    def sla_for(self, source: str | None) -> timedelta:
        return self.sla_by_source.get(source or "", self.sla)


_config = FollowUpConfig()


def install_followup_config(config: FollowUpConfig | None) -> None:
    global _config
    _config = config if config is not None else FollowUpConfig()


def followup_config() -> FollowUpConfig:
    return _config


def parse_sla_by_source(raw: str) -> dict[str, timedelta]:
    """``web_form=30,event=1440`` (minutes per source) → timedeltas; ValueError names the
    part that is wrong."""
    found: dict[str, timedelta] = {}
    known = {s.value for s in Source}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        name, _, minutes = part.partition("=")
        name = name.strip()
        if name not in known:
            raise ValueError(f"unknown source {name!r} (one of {', '.join(sorted(known))})")
        if not minutes.strip().isdigit() or not 1 <= int(minutes) <= 60 * 24 * 30:
            raise ValueError(f"{name}: minutes must be a whole number from 1 to 43200")
        found[name] = timedelta(minutes=int(minutes))
    return found


async def send_welcome(lead_id: uuid.UUID, key: bytes, email: str | None, now: datetime) -> bool:
    """Queue the welcome message (inside the caller's transaction) if the lead has an email
    address and its consent state allows sales contact. Returns whether it was queued."""
    if not email or not await consent_state.consented_ids([lead_id], SALES_CONTACT):
        return False
    body = (
        "Thank you for getting in touch.\n\n"
        f"Next step: {followup_config().welcome_next_step}\n\n"
        "You can change how we may contact you at any time by replying to this message."
    )
    await enqueue(lead_id, key, WELCOME_TEMPLATE, email, body, now)
    await record(
        Event(
            action="lead.welcome.queued",
            outcome=Outcome.SUCCESS,
            actor=Actor.operator(),
            target=Target("lead", str(lead_id)),
        )
    )
    return True


@dataclass(frozen=True, slots=True)
class BecameSql:
    lead_id: uuid.UUID
    source: str | None
    owner_id: uuid.UUID | None


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


async def became_sql(leads: Sequence[BecameSql], at: datetime) -> int:
    """Record when each lead became sales-qualified (the first time only) and give it a
    first-contact task due within its source's SLA. A fixed number of statements for any
    number of leads; call inside the transaction that moved them."""
    if not leads:
        return 0
    ids = [lead.lead_id for lead in leads]
    fresh = {
        _uuid(i)
        for i in await Lead.filter(id__in=ids, sql_at__isnull=True).values_list("id", flat=True)
    }
    if not fresh:
        return 0
    await Lead.filter(id__in=list(fresh)).update(sql_at=at)
    config = followup_config()
    tasks = [
        {
            "id": new_id(),
            "lead_id": lead.lead_id,
            "owner_id": lead.owner_id,
            "kind": TaskKind.FIRST_CONTACT,
            "step": 0,
            "due_at": at + config.sla_for(lead.source),
            "created_at": at,
        }
        for lead in leads
        if lead.lead_id in fresh
    ]
    await insert_dicts(Task, tasks)
    return len(tasks)


async def touched(lead: Lead, at: datetime, user_id: uuid.UUID | None) -> None:
    """A salesperson touched the lead (inside the activity's transaction): the first touch
    after it became an SQL sets speed-to-lead, completes the first-contact task and lays out
    the cadence; a later touch completes the next open cadence task."""
    if lead.sql_at is None or at < lead.sql_at:
        return
    if lead.first_touch_at is None:
        lead.first_touch_at = at
        await Lead.filter(id=lead.id).update(first_touch_at=at)
        await Task.filter(
            lead_id=lead.id, kind=TaskKind.FIRST_CONTACT, completed_at__isnull=True
        ).update(completed_at=at, completed_by_id=user_id)
        if not await Task.filter(lead_id=lead.id, kind=TaskKind.FOLLOW_UP).exists():
            await insert_dicts(
                Task,
                [
                    {
                        "id": new_id(),
                        "lead_id": lead.id,
                        "owner_id": lead.owner_id,
                        "kind": TaskKind.FOLLOW_UP,
                        "step": step,
                        "due_at": at + timedelta(hours=hours),
                        "created_at": at,
                    }
                    for step, hours in enumerate(followup_config().cadence_hours, start=1)
                ],
            )
        return
    following = (
        await Task.filter(lead_id=lead.id, kind=TaskKind.FOLLOW_UP, completed_at__isnull=True)
        .order_by("step")
        .first()
    )
    if following is not None:
        following.completed_at, following.completed_by_id = at, user_id
        await following.save(update_fields=["completed_at", "completed_by_id"])


def is_breached(task: Task, now: datetime) -> bool:
    if task.completed_at is not None:
        return task.completed_at > task.due_at
    return now > task.due_at


async def reassign_open_tasks(lead_id: uuid.UUID, owner_id: uuid.UUID | None) -> None:
    """Open tasks follow the lead to its new owner."""
    await Task.filter(lead_id=lead_id, completed_at__isnull=True).update(owner_id=owner_id)
