"""A payload resolved once for every subscriber with the same reading view is the payload
each would have got alone: the same data, the same errors, the same ``lead.read`` event
(under each subscriber's own name), for every role that can subscribe to a lead.

Each role's subscribers listen on two servers in one process: one sharing payloads
(``LEADVAULT_SHARED_SUBSCRIPTION_PAYLOADS``, on by default) and one executing each payload
for each subscriber (the general path). A lead with every field set changes; what each
subscriber receives and what the audit trail says of each delivery are compared.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport

from audit.models import AuditEvent
from compliance.consent.purposes import ANALYTICS, PROFILING
from identity.models import StaffUser, Team
from identity.roles import Role
from leads import service
from leads.enums import Stage
from leads.models import Lead
from leads.repository import LeadRepository
from schema.subscriptions import shared
from server.settings import Settings
from tests.builders import (
    a_full_lead,
    a_lead,
    a_staff_user,
    a_team,
    principal_for,
    session_token,
)
from tests.subscriptions.conftest import Live, quick, serving

EVERY_FIELD = """subscription {
  leadEvents(types: [LEAD_STAGE_CHANGED]) {
    resync eventId type sequence
    lead {
      id firstName lastName email phone jobTitle notes companyName companyDomain
      seniority country region companySize industry source channel stage status
      ownerId teamId campaignId dealValue wonAmount sqlAt firstTouchAt assignedAt
      assignmentReason stageEnteredAt createdAt updatedAt lastEngagedAt speedToLeadMinutes
      utm { source medium campaign term content }
      score fitScore engagementScore scoredAt scoreStatus
      scoreBreakdown { __typename } scoreHistory { __typename }
      consents { purpose status basis since }
      consentHistory { id purpose kind note actorId clientNetwork }
      owner { id displayName role teamId } team { id name }
      activities(first: 5) { edges { node { id type details } } pageInfo { hasNextPage } }
      possibleDuplicates { id otherLeadId kind status }
      tasks { id kind step ownerId breached }
      stageHistory { id fromStage toStage reason }
    }
  }
}"""


@pytest.fixture
async def general(settings: Settings) -> AsyncIterator[Live]:
    """A second server in this process that resolves every payload for each subscriber."""
    async with serving(replace(quick(settings), shared_subscription_payloads=False)) as live:
        yield live


class Subscriber:
    def __init__(self, live: Live, token: str, document: str = EVERY_FIELD) -> None:
        transport = WebsocketsTransport(
            url=live.ws, init_payload={"Authorization": f"Bearer {token}"}, connect_timeout=5
        )
        self.client = Client(transport=transport)
        self.document = document

    async def __aenter__(self) -> Subscriber:
        self.session = await self.client.__aenter__()
        self.stream = self.session.subscribe(
            GraphQLRequest(self.document), get_execution_result=True
        )
        self.next = asyncio.create_task(anext(self.stream))
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.next.cancel()
        with contextlib.suppress(asyncio.CancelledError, TransportQueryError):
            await self.next
        await self.stream.aclose()
        await self.client.__aexit__(None, None, None)

    async def received(self) -> dict[str, Any]:
        """The next payload: its data and its errors (denied fields), as sent."""
        try:
            result = await self.next
        except TransportQueryError as answered_with_errors:
            return {"data": answered_with_errors.data, "errors": answered_with_errors.errors}
        return {"data": result.data, "errors": result.errors}


def read_record(row: AuditEvent) -> dict[str, Any]:
    """A ``lead.read`` event as the audit trail shows it, minus its place in the chain."""
    return {
        "outcome": row.outcome,
        "actor": (row.actor_type, row.actor_id, row.actor_role),
        "subjects": sorted(row.subject_ids),
        "revealed": sorted(row.fields_touched),
        "masked": sorted(row.fields_masked),
        "denied": sorted(row.fields_denied),
        "details": row.details,
    }


async def reads_of(user: StaffUser, lead: Lead) -> list[dict[str, Any]]:
    rows = await AuditEvent.filter(action="lead.read", actor_id=str(user.id)).order_by("seq")
    return [read_record(row) for row in rows if str(lead.id) in row.subject_ids]


async def people_for(role: Role, *, owned: bool) -> tuple[StaffUser, StaffUser, Lead]:
    """Two people of ``role`` in one team, and a lead of that team with every field set
    (``owned``: by the first of them; a sales rep sees only their own leads)."""
    team = await a_team()
    first, second = await a_staff_user(role, team), await a_staff_user(role, team)
    owner = first if owned else None
    if role is Role.ANALYST:  # analysts see the leads with an analytics basis only
        lead = await a_lead(team_id=team.id, consents=(ANALYTICS, PROFILING))
    else:
        lead = await a_full_lead(owner, team, f"{uuid.uuid4().hex[:8]}@example.com")
    return first, second, lead


async def receive_all(subscribers: dict[str, Subscriber]) -> dict[str, dict[str, Any]]:
    async with asyncio.timeout(10):
        return {name: await subscriber.received() for name, subscriber in subscribers.items()}


async def a_change(lead: Lead) -> None:
    """A stage change by a manager of the lead's team."""
    manager = await a_staff_user(Role.SALES_MANAGER, await Team.get(id=lead.team_id))
    await service.change_stage(principal_for(manager), lead.id, Stage.MQL, None)


@pytest.mark.parametrize("role", [Role.SALES_MANAGER, Role.MARKETER, Role.ANALYST])
async def test_people_who_see_a_lead_alike_share_its_payload(
    live: Live, general: Live, role: Role
) -> None:
    first, second, lead = await people_for(role, owned=False)
    worked, reused = shared.payloads.worked, shared.payloads.reused
    async with contextlib.AsyncExitStack() as stack:
        subscribers = {
            name: await stack.enter_async_context(Subscriber(server, await session_token(who)))
            for name, server, who in [
                ("first", live, first),
                ("second", live, second),
                ("first_alone", general, first),
                ("second_alone", general, second),
            ]
        }
        await live.subscribed(2)
        await general.subscribed(2)
        await a_change(lead)
        got = await receive_all(subscribers)

    assert got["first"]["data"]["leadEvents"]["lead"]["id"]
    assert got["first"] == got["first_alone"] == got["second"] == got["second_alone"]
    assert (shared.payloads.worked - worked, shared.payloads.reused - reused) == (1, 1)
    first_reads, second_reads = await reads_of(first, lead), await reads_of(second, lead)
    assert len(first_reads) == len(second_reads) == 2  # each delivery recorded, shared or not
    assert first_reads[0] == first_reads[1]
    assert second_reads[0] == second_reads[1]
    assert first_reads[0]["actor"] != second_reads[0]["actor"]


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.SALES_MANAGER, Role.MARKETER])
async def test_an_owner_and_a_colleague_get_what_each_gets_alone(
    live: Live, general: Live, role: Role
) -> None:
    """The lead's owner and a colleague of the same role (who relates to it differently,
    and as a sales rep does not see it at all) each get the payload they get alone."""
    owner, colleague, lead = await people_for(role, owned=True)
    sees = role is not Role.SALES_REP
    cast = [("owner", live, owner), ("owner_again", live, owner), ("owner_alone", general, owner)]
    if sees:
        cast += [("colleague", live, colleague), ("colleague_alone", general, colleague)]
    worked = shared.payloads.worked
    async with contextlib.AsyncExitStack() as stack:
        subscribers = {
            name: await stack.enter_async_context(Subscriber(server, await session_token(who)))
            for name, server, who in cast
        }
        await live.subscribed(3 if sees else 2)
        await general.subscribed(2 if sees else 1)
        await a_change(lead)
        got = await receive_all(subscribers)

    assert got["owner"]["data"]["leadEvents"]["lead"]["createdAt"]
    assert got["owner"] == got["owner_again"] == got["owner_alone"]
    owner_reads = await reads_of(owner, lead)
    assert len(owner_reads) == 3
    assert owner_reads[0] == owner_reads[1] == owner_reads[2]
    assert shared.payloads.worked - worked == (2 if sees else 1)
    if sees:
        assert got["colleague"] == got["colleague_alone"]
        colleague_reads = await reads_of(colleague, lead)
        assert len(colleague_reads) == 2
        assert colleague_reads[0] == colleague_reads[1]


async def test_a_payload_with_cursors_is_resolved_for_each_person(live: Live) -> None:
    """Cursors are bound to whoever asked, so people do not share a payload that has them."""
    first, second, lead = await people_for(Role.SALES_MANAGER, owned=False)
    with_cursors = EVERY_FIELD.replace("pageInfo { hasNextPage }", "pageInfo { endCursor }")
    worked = shared.payloads.worked
    async with contextlib.AsyncExitStack() as stack:
        subscribers = [
            await stack.enter_async_context(
                Subscriber(live, await session_token(who), with_cursors)
            )
            for who in (first, second, first)
        ]
        await live.subscribed(3)
        await a_change(lead)
        got = await receive_all(dict(enumerate(subscribers)))  # type: ignore[arg-type]

    pages = [g["data"]["leadEvents"]["lead"]["activities"]["pageInfo"] for g in got.values()]
    cursors = [page["endCursor"] for page in pages]
    assert all(cursors)
    assert shared.payloads.worked - worked == 2
    assert got[0] == got[2]


@pytest.mark.parametrize("role", list(Role))
async def test_the_leads_loaded_for_a_message_are_those_the_subscriber_may_read(
    role: Role,
) -> None:
    team = await a_team()
    person = await a_staff_user(role, team)
    leads = [
        await a_lead(team_id=team.id, owner_id=person.id),
        await a_lead(team_id=team.id, consents=(ANALYTICS,)),
        await a_lead(team_id=(await a_team()).id),
    ]
    principal = principal_for(person)
    ids = [lead.id for lead in leads]

    loaded = await shared.visible(principal, (str(uuid.uuid4()),), ids)

    repository = LeadRepository(principal)
    expected = {lead_id for lead_id in ids if await repository.get(lead_id) is not None}
    assert set(loaded) == expected
