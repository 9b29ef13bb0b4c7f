"""Typed domain events, persisted before they are published."""

from core.events.bus import EventBus, Subscription
from core.events.types import (
    CallAnswered,
    CallEnded,
    CallerBlocked,
    CallForwarded,
    CallRerouted,
    CallRinging,
    CallStarted,
    DomainEvent,
    ExtensionAdded,
    ExtensionRemoved,
    ExtensionUpdated,
    ForwardingChanged,
    RecordingSaved,
    ScheduleChanged,
    VoicemailLeft,
    parse_event,
)

__all__ = [
    "CallAnswered",
    "CallEnded",
    "CallForwarded",
    "CallRerouted",
    "CallRinging",
    "CallStarted",
    "CallerBlocked",
    "DomainEvent",
    "EventBus",
    "ExtensionAdded",
    "ExtensionRemoved",
    "ExtensionUpdated",
    "ForwardingChanged",
    "RecordingSaved",
    "ScheduleChanged",
    "Subscription",
    "VoicemailLeft",
    "parse_event",
]
