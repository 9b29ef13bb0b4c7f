"""The calls in progress: which flow owns each channel, and what the console and API show of each."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from core.errors import NotFound

if TYPE_CHECKING:
    from core.calls.flow import CallFlow


@dataclass
class LiveCall:
    """What the console and API show of a call in progress."""

    call_id: str
    caller: str
    caller_name: str
    callee: str
    state: str  # routing | ringing | ivr | queued | voicemail | up | held
    started_at: datetime
    answered_at: datetime | None = None
    answered_by: str | None = None  # who has the call now (after a transfer, the new party)
    channels: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON shape for the API."""
        return {
            "call_id": self.call_id,
            "caller": self.caller,
            "caller_name": self.caller_name,
            "callee": self.callee,
            "state": self.state,
            "started_at": self.started_at.isoformat(),
            "answered_at": self.answered_at.isoformat() if self.answered_at else None,
            "answered_by": self.answered_by,
        }


class CallTable:
    """Channel id → the flow that owns it, and call id → its live view."""

    def __init__(self) -> None:
        self._flows: dict[str, CallFlow] = {}
        self.live: dict[str, LiveCall] = {}

    def __contains__(self, channel_id: object) -> bool:
        return channel_id in self._flows

    def own(self, channel_id: str, flow: CallFlow) -> None:
        self._flows[channel_id] = flow

    def release(self, channel_id: str, flow: CallFlow) -> None:
        """`flow` no longer owns this channel."""
        if self._flows.get(channel_id) is flow:
            del self._flows[channel_id]

    def get(self, channel_id: str) -> CallFlow | None:
        return self._flows.get(channel_id)

    def owned(self) -> list[tuple[str, CallFlow]]:
        """(channel id, flow) of every channel a flow owns."""
        return list(self._flows.items())

    def flows(self) -> set[CallFlow]:
        return set(self._flows.values())

    def show(self, live: LiveCall) -> None:
        self.live[live.call_id] = live

    def forget(self, flow: CallFlow) -> None:
        """A call is over: its channels and its live view go."""
        for channel_id in flow.channels():
            if self._flows.get(channel_id) is flow:
                del self._flows[channel_id]
        self.live.pop(flow.live.call_id, None)

    def of_call(self, call_id: str) -> CallFlow:
        for flow in self.flows():
            if flow.live.call_id == call_id:
                return flow
        raise NotFound(f"no call {call_id} in progress")

    def in_calls(self) -> set[str]:
        """The internal (and remote agents') numbers on a call now: answered, or calling out."""
        numbers = set()
        for flow in self.flows():
            if flow.answered_number is not None and flow.talking:
                numbers.add(flow.answered_number)
            if not flow.inbound:
                numbers.add(flow.caller_number)
        return numbers
