"""Which events of the bus a user may follow: the event stream shows only what the user's rights and scope
cover. Pure: the caller gives the user's rights and the numbers of its scope (None: the organisation)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.events import DomainEvent

#: the read right each kind of event needs (events of calls not named here need calls.read)
READ_RIGHT: dict[str, str] = {
    "ExtensionAdded": "extensions.read",
    "ExtensionUpdated": "extensions.read",
    "ExtensionRemoved": "extensions.read",
    "ForwardingChanged": "forwarding.read",
    "GroupChanged": "groups.read",
    "IvrMenuChanged": "ivr.read",
    "QueueChanged": "queues.read",
    "QueueCallerJoined": "queues.read",
    "QueueCallerLeft": "queues.read",
    "QueueCallEnded": "queues.read",
    "QueueAgentStateChanged": "queues.read",
    "QueueAgentLoggedIn": "queues.read",
    "QueueAgentLoggedOut": "queues.read",
    "QueueAgentPaused": "queues.read",
    "ScheduleChanged": "schedules.read",
    "ScheduleSettingsChanged": "schedules.read",
    "TrunkChanged": "trunks.read",
    "RouteChanged": "trunks.read",
    "BlacklistChanged": "blacklist.read",
    "AnonymousPolicyChanged": "blacklist.read",
    "WhitelistChanged": "whitelist.read",
    "RecordingSaved": "recordings.read",
    "RecordingDeleted": "recordings.read",
    "VoicemailLeft": "recordings.read",
    "RecordingPolicyChanged": "recordings.read",
    "SecurityAlert": "security.read",
    "SecurityBanLifted": "security.read",
    "UserChanged": "users.read",
    "WebhookChanged": "webhooks.read",
    "WebhookTest": "webhooks.read",
}

#: organisation-wide configuration: every user with the read right sees its changes, whatever its scope
ORG_WIDE = frozenset(
    {
        "IvrMenuChanged",
        "QueueChanged",
        "ScheduleChanged",
        "ScheduleSettingsChanged",
        "TrunkChanged",
        "RouteChanged",
        "BlacklistChanged",
        "AnonymousPolicyChanged",
        "WhitelistChanged",
    }
)

#: the fields of an event that name internal numbers it concerns
_PARTY_FIELDS = ("caller", "callee", "number", "mailbox", "agent")


def parties(event: DomainEvent | dict[str, Any]) -> list[str]:
    """The numbers an event (or a live call as the API shows it) concerns."""
    data = event if isinstance(event, dict) else event.__dict__
    found = [str(data[f]) for f in _PARTY_FIELDS if data.get(f)]
    found += [str(n) for n in data.get("members") or data.get("numbers") or ()]
    target = str(data.get("target") or "")
    if target.startswith("ext:"):
        found.append(target.removeprefix("ext:"))
    return found


def event_visible(
    event: DomainEvent, can: Callable[[str], bool], numbers: frozenset[str] | None, group: str = ""
) -> bool:
    """Whether a user (its rights `can`, the numbers of its scope, the group it is scoped to) sees `event`."""
    if not can(READ_RIGHT.get(event.type, "calls.read")):
        return False
    if numbers is None or event.type in ORG_WIDE:
        return True
    if event.type == "RecordingPolicyChanged" and not str(getattr(event, "target", "")).startswith("ext:"):
        return True  # the policy of a group, queue or public number: organisation-wide configuration
    if event.type == "GroupChanged" and group and getattr(event, "group", None) == group:
        return True  # its own group, even emptied
    if event.type == "UserChanged":  # a user at the same group, or at one of the numbers
        scope = str(getattr(event, "scope", "") or "")
        return (bool(group) and scope == f"group:{group}") or (
            scope.startswith("ext:") and scope[4:] in numbers
        )
    return any(p in numbers for p in parties(event))
