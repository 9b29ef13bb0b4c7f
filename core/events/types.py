"""The events core publishes. Names are past tense; every event is JSON-serialisable.

Call events and the live state of schedules, queues and security are here; changes to the configuration
are in core.events.changes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from core.events.base import DomainEvent
from core.events.call_control import (
    CallHeld,
    CallHungUp,
    CallMonitored,
    CallPickedUp,
    CallPlaced,
    CallRedirected,
    CallResumed,
    CallTransferred,
)
from core.events.changes import (
    AnonymousPolicyChanged,
    BlacklistChanged,
    ExtensionAdded,
    ExtensionRemoved,
    ExtensionUpdated,
    ForwardingChanged,
    GroupChanged,
    IvrMenuChanged,
    QueueChanged,
    RecordingPolicyChanged,
    RouteChanged,
    ScheduleSettingsChanged,
    TrunkChanged,
    UserChanged,
    WebhookChanged,
    WhitelistChanged,
)


class _CallEvent(DomainEvent):
    call_id: str
    caller: str
    callee: str


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
    voicemail_id: int | None = None


class MissedCall(_CallEvent):
    """An inbound call no person answered: missed-call record `missed_id` opened. `reason` no_answer, busy,
    unavailable, abandoned (the caller hung up waiting), voicemail or closed; `ended` where (e.g.
    queue:support); `numbers` the internal numbers it was for."""

    type: Literal["MissedCall"] = "MissedCall"
    missed_id: int
    caller_name: str = ""
    reason: str
    ended: str = ""
    waited_seconds: float = 0.0
    numbers: list[str] = Field(default_factory=list)
    voicemail_id: int | None = None


class MissedCallResolved(_CallEvent):
    """Missed-call record `missed_id` closed: `status` returned (a call between the caller and the PBX was
    answered: `by_call`) or handled (marked by `actor`)."""

    type: Literal["MissedCallResolved"] = "MissedCallResolved"
    missed_id: int
    status: Literal["returned", "handled"]
    actor: str
    by_call: str | None = None
    numbers: list[str] = Field(default_factory=list)


class WebhookTest(DomainEvent):
    """`pbx webhook test ID`: a test event sent to subscription `subscription` only."""

    type: Literal["WebhookTest"] = "WebhookTest"
    subscription: int
    message: str = "a test event from the PBX"
    actor: str = ""


class RecordingDeleted(DomainEvent):
    """A recording of call `call_id` was deleted, file and index row (`reason` retention: it was older
    than recording.retention_days)."""

    type: Literal["RecordingDeleted"] = "RecordingDeleted"
    call_id: str
    name: str
    path: str
    reason: str
    actor: str


class CallAnswered(_CallEvent):
    """The callee answered and both sides are bridged."""

    type: Literal["CallAnswered"] = "CallAnswered"
    sub_call_id: str
    answered_by: str = ""  # the internal (or remote agent's) number that answered


class CallEnded(_CallEvent):
    """A call is over, with its outcome."""

    type: Literal["CallEnded"] = "CallEnded"
    disposition: str
    duration: float = 0.0
    sip_code: int | None = None


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


class QueueCallEnded(DomainEvent):
    """The part of call `call_id` that queue agent `agent` took is over (the call ended, or it was
    transferred on): `talk_seconds` from the agent's answer."""

    type: Literal["QueueCallEnded"] = "QueueCallEnded"
    queue: str
    agent: str
    call_id: str
    talk_seconds: float


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


class SecurityBanLifted(DomainEvent):
    """The ban of `address` was lifted (`reason` expired, or by hand by `actor`): it may authenticate
    again. Lifted by hand while Asterisk was away, it is announced once more (expired) when Asterisk has
    dropped its ACL."""

    type: Literal["SecurityBanLifted"] = "SecurityBanLifted"
    address: str
    reason: str
    actor: str


AnyEvent = Annotated[
    CallStarted
    | CallRinging
    | CallForwarded
    | CallerBlocked
    | CallRerouted
    | CallAnswered
    | RecordingSaved
    | VoicemailLeft
    | MissedCall
    | MissedCallResolved
    | WebhookTest
    | WebhookChanged
    | RecordingDeleted
    | CallEnded
    | CallHungUp
    | CallTransferred
    | CallRedirected
    | CallHeld
    | CallResumed
    | CallPlaced
    | CallPickedUp
    | CallMonitored
    | ExtensionAdded
    | ExtensionUpdated
    | ExtensionRemoved
    | ForwardingChanged
    | ScheduleChanged
    | QueueCallerJoined
    | QueueCallerLeft
    | QueueCallEnded
    | QueueAgentStateChanged
    | QueueAgentLoggedIn
    | QueueAgentLoggedOut
    | QueueAgentPaused
    | QueueChanged
    | TrunkChanged
    | RouteChanged
    | BlacklistChanged
    | WhitelistChanged
    | AnonymousPolicyChanged
    | GroupChanged
    | IvrMenuChanged
    | ScheduleSettingsChanged
    | RecordingPolicyChanged
    | UserChanged
    | SecurityAlert
    | SecurityBanLifted,
    Field(discriminator="type"),
]
_adapter: TypeAdapter[AnyEvent] = TypeAdapter(AnyEvent)


def parse_event(data: dict | str | bytes) -> DomainEvent:
    """Turn a JSON object (or text) back into its typed event."""
    if isinstance(data, dict):
        return _adapter.validate_python(data)
    return _adapter.validate_json(data)
