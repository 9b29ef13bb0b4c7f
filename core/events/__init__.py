"""Typed domain events, persisted before they are published."""

from core.events.bus import EventBus, Subscription
from core.events.types import (
    CallAnswered,
    CallEnded,
    CallRinging,
    CallStarted,
    DomainEvent,
    ExtensionAdded,
    ExtensionRemoved,
    ExtensionUpdated,
    parse_event,
)

__all__ = [
    "CallAnswered",
    "CallEnded",
    "CallRinging",
    "CallStarted",
    "DomainEvent",
    "EventBus",
    "ExtensionAdded",
    "ExtensionRemoved",
    "ExtensionUpdated",
    "Subscription",
    "parse_event",
]
