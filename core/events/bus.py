"""In-process event bus. Every event is written to the event log first, then fanned out. The outbox's items
of an event (core/notify) are written in the same transaction as the event itself: both, or neither."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from tortoise.transactions import in_transaction

from core.events.base import DomainEvent
from core.models import EventRecord

if TYPE_CHECKING:
    from core.notify import Outbox

logger = logging.getLogger(__name__)


class Subscription:
    """A subscriber's queue. A subscriber that falls too far behind is cut off (it must resync)."""

    def __init__(self, bus: EventBus, maxsize: int) -> None:
        self._bus = bus
        self.queue: asyncio.Queue[DomainEvent | None] = asyncio.Queue(maxsize)
        self.overflowed = False

    def _offer(self, event: DomainEvent) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True
            self.close()

    def close(self) -> None:
        """Stop receiving; iteration ends."""
        self._bus._subs.discard(self)
        while True:
            try:
                self.queue.put_nowait(None)
                return
            except asyncio.QueueFull:
                self.queue.get_nowait()

    async def __aiter__(self) -> AsyncIterator[DomainEvent]:
        while (event := await self.queue.get()) is not None:
            yield event


class EventBus:
    """Persist-then-publish. Handlers run inline and must not block; subscribers get a queue."""

    def __init__(self) -> None:
        self._subs: set[Subscription] = set()
        self._handlers: list[Callable[[DomainEvent], None]] = []
        self.outbox: Outbox | None = None  # set by the daemon: notifications written with their events

    def subscribe(self, maxsize: int = 1000) -> Subscription:
        """A new subscription; close() it when done."""
        sub = Subscription(self, maxsize)
        self._subs.add(sub)
        return sub

    def add_handler(self, handler: Callable[[DomainEvent], None]) -> None:
        """Call `handler` synchronously for every event published (after it is persisted)."""
        self._handlers.append(handler)

    async def publish(self, event: DomainEvent) -> DomainEvent:
        """Persist the event, then deliver it. Returns the event with its id."""
        payload = event.model_dump(mode="json", exclude={"id"})
        call_id = getattr(event, "call_id", None)
        outbox = self.outbox
        if outbox is not None and outbox.wants(event):
            async with in_transaction():
                row = await EventRecord.create(type=event.type, call_id=call_id, payload=payload)
                event.id = row.id
                queued = await outbox.enqueue(event)
            if queued:
                outbox.wake()
        else:
            row = await EventRecord.create(type=event.type, call_id=call_id, payload=payload)
            event.id = row.id
        for handler in list(self._handlers):
            try:
                handler(event)
            except Exception:  # a broken observer must not break the publisher
                logger.exception("event handler %r failed on %s", handler, event.type)
        for sub in list(self._subs):
            sub._offer(event)
        return event
