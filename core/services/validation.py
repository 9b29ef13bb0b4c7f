"""Validation shared by services."""

from __future__ import annotations

from core.errors import InvalidInput, NotFound
from core.models import Extension, Group, Schedule, Trunk
from core.routing.destinations import (
    Destination,
    DestinationKind,
    InvalidDestination,
    normalise_e164,
    parse_destination,
)


def validate_e164(number: str, what: str) -> str:
    """A public number in E.164, or a clear error naming `what` it is."""
    try:
        return normalise_e164(number)
    except InvalidDestination:
        raise InvalidInput(
            f"{what} {number!r} must be a phone number in international form, e.g. +15551234567"
        ) from None


# Destinations calls can be sent to today; the others arrive with queues, IVRs, voicemail and outside
# forwarding, and are refused until then rather than accepted and silently dropped.
ROUTABLE = {
    DestinationKind.EXTENSION,
    DestinationKind.GROUP,
    DestinationKind.VOICEMAIL,
    DestinationKind.SCHEDULE,
    DestinationKind.EXTERNAL,
    DestinationKind.BUSY,
    DestinationKind.HANGUP,
}


async def routable_destination(text: str) -> Destination:
    """A destination calls can be sent to now, and that exists."""
    try:
        dest = parse_destination(text)
    except InvalidDestination as exc:
        raise InvalidInput(str(exc)) from None
    if dest.kind not in ROUTABLE:
        raise InvalidInput(f"sending calls to {dest.kind.value} destinations is not available yet")
    mailbox_or_number = dest.kind in (DestinationKind.EXTENSION, DestinationKind.VOICEMAIL)
    if mailbox_or_number and not await Extension.exists(number=dest.target):
        raise NotFound(f"internal number {dest.target} does not exist")
    if dest.kind is DestinationKind.GROUP and not await Group.exists(name=dest.target):
        raise NotFound(f"group {dest.target} does not exist")
    if dest.kind is DestinationKind.SCHEDULE and not await Schedule.exists(name=dest.target):
        raise NotFound(f"schedule {dest.target} does not exist")
    if dest.kind is DestinationKind.EXTERNAL and not await Trunk.exists(enabled=True):
        raise NotFound(f"no trunk can reach {dest.target}: add one first (pbx trunk add)")
    return dest
