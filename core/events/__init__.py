"""Typed domain events, persisted before they are published."""

from core.events.bus import EventBus, Subscription
from core.events.types import (
    CallAnswered,
    CallEnded,
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
    "CallStarted",
    "DomainEvent",
    "EventBus",
    "ExtensionAdded",
    "ExtensionRemoved",
    "ExtensionUpdated",
    "Subscription",
    "parse_event",
]
