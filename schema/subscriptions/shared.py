"""Work one hub message needs, done once for every subscriber of this process that needs
the same: the message's events, the leads of each row scope, and each payload of each
reading view.

A hub message reaches every subscriber at about the same moment. Each asks for what it
needs under a key that says what the answer depends on; the first one to ask does the
work, the others await the same answer. Answers are dropped :data:`KEEP_SECONDS` after
they were asked for (a subscriber that falls further behind works on its own).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from compliance.events.models import DomainEvent
from identity.principal import Principal
from leads.models import Lead
from leads.repository import LeadRepository

KEEP_SECONDS = 5.0


class Shared:
    """Answers by key, each worked out once while it is kept."""

    def __init__(self) -> None:
        self._answers: dict[Hashable, asyncio.Future[Any]] = {}
        self.worked = 0
        """Answers worked out (for tests: how often sharing did not apply)."""
        self.reused = 0
        """Answers another subscriber had already worked out."""

    def found(self, key: Hashable) -> asyncio.Future[Any] | None:
        found = self._answers.get(key)
        if found is not None:
            self.reused += 1
        return found

    def promise(self, key: Hashable) -> asyncio.Future[Any]:
        """A place for the answer the caller will work out (others awaiting it meanwhile)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._answers[key] = future
        self.worked += 1
        loop.call_later(KEEP_SECONDS, self._drop, key, future)
        return future

    def _drop(self, key: Hashable, future: asyncio.Future[Any]) -> None:
        """Forget the answer (whoever promised it still settles it for those waiting)."""
        if self._answers.get(key) is future:
            del self._answers[key]

    async def once(self, key: Hashable, work: Callable[[], Awaitable[Any]]) -> Any:
        """``work()``'s answer, worked out by the first caller with ``key``."""
        found = self.found(key)
        if found is not None:
            return await asyncio.shield(found)
        future = self.promise(key)
        try:
            answer = await work()
        except BaseException as error:
            self._answers.pop(key, None)
            future.set_exception(error if isinstance(error, Exception) else RuntimeError())
            future.exception()  # retrieved: a failure is each caller's own to report
            raise
        future.set_result(answer)
        return answer


events = Shared()
rows = Shared()
payloads = Shared()


async def committed(ids: list[str]) -> list[DomainEvent]:
    """The events of one hub message, in the order they happened."""

    async def load() -> list[DomainEvent]:
        return await DomainEvent.filter(id__in=ids).order_by("occurred_at", "sequence")

    found: list[DomainEvent] = await events.once(("events", *ids), load)
    return found


async def visible(
    principal: Principal, message: tuple[str, ...], lead_ids: list[uuid.UUID]
) -> dict[uuid.UUID, Lead]:
    """The leads among ``lead_ids`` that ``principal`` may read now, loaded once for every
    subscriber whose row scope is the same (:meth:`LeadRepository.scope_key`)."""
    if not lead_ids:
        return {}
    repository = LeadRepository(principal)

    async def load() -> dict[uuid.UUID, Lead]:
        found = await repository.readable().filter(id__in=lead_ids)
        return {row.id: row for row in found}

    answer: dict[uuid.UUID, Lead] = await rows.once((message, repository.scope_key()), load)
    return answer
