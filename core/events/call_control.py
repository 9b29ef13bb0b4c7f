"""Events of live call control: what an operator (`actor`; a phone's own feature code says `phone`) did to
a call in progress. Like every call event they carry the call's `caller` and `callee` (numbers), so the
event stream shows them to whoever's scope covers either."""

from __future__ import annotations

from typing import Literal

from core.events.base import DomainEvent


class _ControlEvent(DomainEvent):
    call_id: str
    caller: str
    callee: str
    actor: str


class CallHungUp(_ControlEvent):
    """An operator ended the call."""

    type: Literal["CallHungUp"] = "CallHungUp"


class CallTransferred(_ControlEvent):
    """A transfer of an answered call: `party` (caller or callee) sent to `destination`. `stage` is
    `blind` (sent at once, the other side released) or, for an attended transfer, `consulting` (the
    party on hold while the other side talks to the destination), then `completed` (the party and the
    destination bridged, the other side released) or `cancelled` (the party back)."""

    type: Literal["CallTransferred"] = "CallTransferred"
    party: str
    destination: str
    stage: str = "blind"


class CallRedirected(_ControlEvent):
    """A ringing call was sent to `destination` instead (what rang stopped)."""

    type: Literal["CallRedirected"] = "CallRedirected"
    destination: str


class CallHeld(_ControlEvent):
    """`party` of an answered call was put on hold (music on hold; the other side hears silence)."""

    type: Literal["CallHeld"] = "CallHeld"
    party: str


class CallResumed(_ControlEvent):
    """The held `party` is back in the call."""

    type: Literal["CallResumed"] = "CallResumed"
    party: str


class CallPlaced(_ControlEvent):
    """Click-to-call: the phone of `caller` is rung; when it answers, it calls `callee`."""

    type: Literal["CallPlaced"] = "CallPlaced"


class CallPickedUp(_ControlEvent):
    """Internal number `number` answered the ringing call with a pickup code (`actor` is "phone"); the
    legs that rang stopped. `sub_call_id` is the picking phone's leg."""

    type: Literal["CallPickedUp"] = "CallPickedUp"
    number: str
    sub_call_id: str


class CallMonitored(_ControlEvent):
    """Supervisor `supervisor`'s phone is rung to `mode` (listen, whisper or barge) on the call; for
    listen and whisper, `party` is the side it hears up close (and whispers to)."""

    type: Literal["CallMonitored"] = "CallMonitored"
    supervisor: str
    mode: str
    party: str
