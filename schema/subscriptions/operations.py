"""``leadEvents``: lead events as they commit, for the leads the subscriber may see.

Each event's ``lead`` is the API's ``Lead`` type, resolved as a query resolves it: the
subscriber's row scope decides whether the event is sent at all, the field policy masks or
denies each field, and a payload that carries personal fields is audited as ``lead.read``
before it is sent (:class:`schema.access.report.AccessReport`). A session that is revoked or
expires ends the subscription within :attr:`SubscriptionLimits.session_check_seconds`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry
from graphql import GraphQLError

from compliance.events.models import DomainEvent
from compliance.events.types import LEAD_EVENTS
from identity import clock
from identity.authenticate import AuthStage
from leads import models
from leads.models import subject_of
from schema.context import Context
from schema.enums import WebhookEventType
from schema.leads.types import Lead
from schema.streams import TooManySubscriptions
from schema.subscriptions import shared
from schema.subscriptions.executor import SharedEvent


@strawberry.type(
    description="Something that happened to a lead you may see. When resync is true, events "
    "may have been missed (too many at once, or a lost connection): refetch what you show; "
    "the other fields are then null."
)
class LeadEvent:
    resync: bool
    event_id: strawberry.ID | None = strawberry.field(
        description="The same id as the event's webhook delivery."
    )
    type: WebhookEventType | None
    occurred_at: datetime | None
    sequence: int | None = strawberry.field(
        description="The event's number among its lead's events (rises by one each time)."
    )
    _row: strawberry.Private[models.Lead | None] = None
    shares: strawberry.Private[SharedEvent | None] = None

    @strawberry.field(
        description="The lead as a query would have shown it to you when the event was "
        "heard (just after its commit)."
    )
    async def lead(self) -> Lead | None:
        return Lead.of(self._row) if self._row is not None else None

    @classmethod
    def of(cls, event: DomainEvent, row: models.Lead) -> LeadEvent:
        """``event`` about ``row``, the lead as the subscriber's row scope loaded it."""
        return cls(
            resync=False,
            event_id=strawberry.ID(str(event.id)),
            type=WebhookEventType(event.type),
            occurred_at=event.occurred_at,
            sequence=event.sequence,
            _row=row,
            shares=SharedEvent(str(event.id), subject_of(row)),
        )

    @classmethod
    def missed(cls) -> LeadEvent:
        return cls(resync=True, event_id=None, type=None, occurred_at=None, sequence=None)


def _ended() -> GraphQLError:
    return GraphQLError("your session has ended", extensions={"code": "UNAUTHENTICATED"})


@strawberry.type
class LeadSubscriptions:
    @strawberry.subscription(
        description="Lead events as they happen, for leads you may see (types: those to "
        "receive; none given means every lead event)."
    )
    async def lead_events(
        self, info: strawberry.Info[Context], types: list[WebhookEventType] | None = None
    ) -> AsyncGenerator[LeadEvent, None]:
        context = info.context
        principal = context.principal
        if context.events is None:
            raise GraphQLError(
                "subscriptions are not served here", extensions={"code": "UNAVAILABLE"}
            )
        wanted = sorted({t.value for t in types or ()} & LEAD_EVENTS or LEAD_EVENTS)
        if context.auth.stage is not AuthStage.STAFF:
            raise GraphQLError(
                "subscriptions need a signed-in staff session with MFA",
                extensions={"code": "FORBIDDEN"},
            )
        limits = context.subscription_limits
        try:
            subscriber = context.events.subscribe(principal.session_id or "", limits.per_session)
        except TooManySubscriptions:
            raise GraphQLError(
                f"at most {limits.per_session} subscriptions per session",
                extensions={"code": "RATE_LIMITED"},
            ) from None
        if not await context.events.ready(limits.session_check_seconds):
            yield LeadEvent.missed()  # not hearing commits yet: what happens now may be missed
        window_start, sent = time.monotonic(), 0
        checked = time.monotonic()
        try:
            while True:
                item = await subscriber.next(limits.session_check_seconds)
                if time.monotonic() - checked >= limits.session_check_seconds or item is None:
                    if not await context.session_valid(clock.now()):
                        raise _ended()
                    checked = time.monotonic()
                if item is None:
                    continue
                if isinstance(item, str):  # RESYNC
                    yield LeadEvent.missed()
                    continue
                events = [e for e in await shared.committed(item) if e.type in wanted]
                visible = await shared.visible(
                    principal, tuple(item), sorted({e.lead_id for e in events if e.lead_id})
                )
                for event in events:
                    row = visible.get(event.lead_id) if event.lead_id else None
                    if row is None:
                        continue
                    now = time.monotonic()
                    if now - window_start >= 1:
                        window_start, sent = now, 0
                    sent += 1
                    if sent == limits.per_second + 1:
                        yield LeadEvent.missed()
                    if sent > limits.per_second:
                        continue
                    yield LeadEvent.of(event, row)
        finally:
            subscriber.close()
