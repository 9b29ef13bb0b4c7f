"""The events core publishes. Names are past tense; every event is JSON-serialisable."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, Field, TypeAdapter


def _now() -> datetime:
    return datetime.now(UTC)


class DomainEvent(BaseModel):
    """Base of all events. `id` is the persisted row id, set when published."""

    type: str
    id: int | None = None
    at: datetime = Field(default_factory=_now)
    call_scoped: ClassVar[bool] = False


class _CallEvent(DomainEvent):
    call_id: str
    caller: str
    callee: str
    call_scoped: ClassVar[bool] = True


class CallStarted(_CallEvent):
    """A call entered the PBX."""

    type: Literal["CallStarted"] = "CallStarted"
    caller_name: str = ""
    direction: str = "internal"


class CallRinging(_CallEvent):
    """The callee's phone is ringing (the caller hears ringback)."""

    type: Literal["CallRinging"] = "CallRinging"
    sub_call_id: str


class CallForwarded(_CallEvent):
    """A call was sent on from internal number `number` to `destination`, because of `condition`."""

    type: Literal["CallForwarded"] = "CallForwarded"
    number: str
    condition: str
    destination: str


class CallerBlocked(_CallEvent):
    """An outside caller was refused before anything rang (they heard busy).

    `reason`: blacklist (`entry` is the number or prefix hit), anonymous, or not_whitelisted.
    """

    type: Literal["CallerBlocked"] = "CallerBlocked"
    reason: str
    entry: str = ""


class CallRerouted(_CallEvent):
    """The call was sent to `destination` by a rule (`reason`): the caller's own (whitelist, anonymous), a
    schedule ("schedule:office open"), or a choice in an IVR menu ("ivr:main 1", "ivr:main no choice")."""

    type: Literal["CallRerouted"] = "CallRerouted"
    reason: str
    destination: str


class RecordingSaved(_CallEvent):
    """A recording of the call is stored and indexed."""

    type: Literal["RecordingSaved"] = "RecordingSaved"
    name: str
    path: str
    duration: float
    size: int


class VoicemailLeft(_CallEvent):
    """A caller left a message in the voicemail box of internal number `mailbox`."""

    type: Literal["VoicemailLeft"] = "VoicemailLeft"
    mailbox: str
    path: str
    duration: float


class CallAnswered(_CallEvent):
    """The callee answered and both sides are bridged."""

    type: Literal["CallAnswered"] = "CallAnswered"
    sub_call_id: str


class CallEnded(_CallEvent):
    """A call is over, with its outcome."""

    type: Literal["CallEnded"] = "CallEnded"
    disposition: str
    duration: float = 0.0
    sip_code: int | None = None


class ExtensionEvent(DomainEvent):
    """What an internal number now is (base of the extension events)."""

    number: str
    name: str = ""
    enabled: bool = True
    dnd: bool = False
    outbound: str = "national"
    external_caller_id: str | None = None
    recording: str = "never"


class ExtensionAdded(ExtensionEvent):
    """An internal number was created."""

    type: Literal["ExtensionAdded"] = "ExtensionAdded"


class ExtensionUpdated(ExtensionEvent):
    """An internal number was changed."""

    type: Literal["ExtensionUpdated"] = "ExtensionUpdated"


class ExtensionRemoved(ExtensionEvent):
    """An internal number was deleted."""

    type: Literal["ExtensionRemoved"] = "ExtensionRemoved"


class ForwardingChanged(DomainEvent):
    """The forwarding rules of an internal number changed; `rules` is the complete new set."""

    type: Literal["ForwardingChanged"] = "ForwardingChanged"
    number: str
    rules: dict[str, dict[str, str | int | None]]  # condition → {"destination", "ring_seconds"}


class ScheduleChanged(DomainEvent):
    """A schedule opened or closed (by the clock, a holiday, or an override)."""

    type: Literal["ScheduleChanged"] = "ScheduleChanged"
    name: str
    open: bool


class QueueCallerJoined(DomainEvent):
    """A caller started waiting in a queue, at `position` (1 = next)."""

    type: Literal["QueueCallerJoined"] = "QueueCallerJoined"
    call_id: str
    queue: str
    caller: str
    position: int


class QueueCallerLeft(DomainEvent):
    """A caller stopped waiting: `reason` is answered, abandoned (hung up), timeout or no_agents."""

    type: Literal["QueueCallerLeft"] = "QueueCallerLeft"
    call_id: str
    queue: str
    caller: str
    reason: str
    waited_seconds: float
    agent: str | None = None  # who answered


class QueueAgentStateChanged(DomainEvent):
    """An agent's live state in a queue changed (ready, ringing, in_queue_call, busy_elsewhere,
    unregistered, delayed, wrapup, paused, logged_out)."""

    type: Literal["QueueAgentStateChanged"] = "QueueAgentStateChanged"
    queue: str
    agent: str
    state: str
    previous: str | None = None


class QueueAgentLoggedIn(DomainEvent):
    """An agent logged in to a queue (or was added to it logged in)."""

    type: Literal["QueueAgentLoggedIn"] = "QueueAgentLoggedIn"
    queue: str
    agent: str


class QueueAgentLoggedOut(DomainEvent):
    """An agent logged out of a queue (or was removed from it)."""

    type: Literal["QueueAgentLoggedOut"] = "QueueAgentLoggedOut"
    queue: str
    agent: str


class QueueAgentPaused(DomainEvent):
    """An agent paused (or resumed) taking calls from a queue."""

    type: Literal["QueueAgentPaused"] = "QueueAgentPaused"
    queue: str
    agent: str
    paused: bool


class QueueChanged(DomainEvent):
    """A queue's settings or agents changed, or it was removed (`removed`)."""

    type: Literal["QueueChanged"] = "QueueChanged"
    queue: str
    removed: bool = False


class SecurityAlert(DomainEvent):
    """Someone is guessing SIP passwords.

    `kind` "ban": `address` had `failures` failed authentications within the window and is refused by
    Asterisk until `until`; `numbers` are the accounts it tried. `kind` "failures_per_number": internal
    number `number` had `failures` failed authentications within the window, from the `addresses` (each
    below the ban threshold, or exempt): a number cannot be banned, so this only alerts.
    """

    type: Literal["SecurityAlert"] = "SecurityAlert"
    kind: Literal["ban", "failures_per_number"]
    failures: int
    address: str | None = None
    number: str | None = None
    numbers: list[str] = Field(default_factory=list)
    addresses: list[str] = Field(default_factory=list)
    until: datetime | None = None


AnyEvent = Annotated[
    CallStarted
    | CallRinging
    | CallForwarded
    | CallerBlocked
    | CallRerouted
    | CallAnswered
    | RecordingSaved
    | VoicemailLeft
    | CallEnded
    | ExtensionAdded
    | ExtensionUpdated
    | ExtensionRemoved
    | ForwardingChanged
    | ScheduleChanged
    | QueueCallerJoined
    | QueueCallerLeft
    | QueueAgentStateChanged
    | QueueAgentLoggedIn
    | QueueAgentLoggedOut
    | QueueAgentPaused
    | QueueChanged
    | SecurityAlert,
    Field(discriminator="type"),
]
_adapter: TypeAdapter[AnyEvent] = TypeAdapter(AnyEvent)


def parse_event(data: dict | str | bytes) -> DomainEvent:
    """Turn a JSON object (or text) back into its typed event."""
    if isinstance(data, dict):
        return _adapter.validate_python(data)
    return _adapter.validate_json(data)
