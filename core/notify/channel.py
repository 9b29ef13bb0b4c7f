"""What a channel of the outbox is: which events it wants, the items one event makes, and how one is sent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from core.events import DomainEvent
    from core.models import OutboxItem


@dataclass(frozen=True)
class Envelope:
    """An item to write for an event: to `destination`, in order with the others of `ordering_key`."""

    destination: str
    payload: dict[str, Any]
    event_type: str
    ordering_key: str = ""


@dataclass(frozen=True)
class Delivery:
    """The outcome of one attempt. `ok`: delivered. `retry_after`: seconds the receiver asked us to wait.
    `ended`: the destination is gone for good (a webhook answered 410): its items are dead-lettered."""

    ok: bool
    status_code: int | None = None
    error: str = ""
    retry_after: float | None = None
    ended: bool = False


class Channel(Protocol):
    """One way out (webhooks, Slack, Telegram). `wants` is asked for every event on the bus and must be
    quick (no I/O); `envelopes` runs inside the event's transaction; `deliver` is the worker's."""

    name: str

    def wants(self, event: DomainEvent) -> bool: ...

    async def envelopes(self, event: DomainEvent) -> list[Envelope]: ...

    async def deliver(self, item: OutboxItem) -> Delivery: ...

    async def ended(self, destination: str, reason: str) -> None: ...
