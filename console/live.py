"""The console's picture of calls in progress, kept from the daemon's Snapshot plus call events."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from console.records import LiveCall, parse_time


class LiveCallBoard:
    """Calls in progress by CallID. Pure state: no I/O, no widgets."""

    def __init__(self) -> None:
        self._calls: dict[str, LiveCall] = {}

    def reset(self, calls: list[LiveCall]) -> None:
        """Replace everything with a fresh snapshot."""
        self._calls = {call.call_id: call for call in calls}

    def apply(self, event: dict[str, Any]) -> bool:
        """Fold one event in; returns whether the board changed. Events are applied idempotently
        (a call can be both in a Snapshot and in the CallStarted that follows it)."""
        kind, call_id = event.get("type"), event.get("call_id")
        if not call_id or kind not in ("CallStarted", "CallRinging", "CallAnswered", "CallEnded"):
            return False
        at = parse_time(event.get("at")) or datetime.now(UTC)
        known = self._calls.get(call_id)
        if kind == "CallEnded":
            return self._calls.pop(call_id, None) is not None
        if kind == "CallStarted":
            if known is not None:
                return False
            self._calls[call_id] = LiveCall(
                call_id=call_id,
                caller=str(event.get("caller", "")),
                caller_name=str(event.get("caller_name") or ""),
                callee=str(event.get("callee", "")),
                state="routing",
                started_at=at,
            )
            return True
        if known is None:  # started before our snapshot was taken and missing from it: show it anyway
            known = LiveCall(call_id, str(event.get("caller", "")), "", str(event.get("callee", "")), "", at)
        if kind == "CallRinging":
            if known.state in ("ringing", "up"):
                return False
            self._calls[call_id] = replace(known, state="ringing")
            return True
        # CallAnswered
        if known.state == "up":
            return False
        self._calls[call_id] = replace(known, state="up", answered_at=at)
        return True

    @property
    def calls(self) -> tuple[LiveCall, ...]:
        """Calls in progress, oldest first."""
        return tuple(sorted(self._calls.values(), key=lambda call: call.started_at))
