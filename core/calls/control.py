"""Actions on calls in progress, by call id: what the LiveCallService (core/services/live_calls.py) asks
of the call engine for the API and, later, the console and the bots. Who may act is checked there."""

from __future__ import annotations

from typing import Any

from core.calls import actions
from core.calls.live import CallTable
from core.calls.steps import bridge
from core.errors import PermissionDenied
from core.routing import RecordingPolicy
from core.routing.destinations import Destination


class CallControl:
    """What can be done to a live call from outside it."""

    def __init__(self, table: CallTable) -> None:
        self.table = table

    def live_call(self, call_id: str) -> dict[str, Any] | None:
        """The call as the live view shows it, or None when no such call is in progress."""
        live = self.table.live.get(call_id)
        return live.to_dict() if live else None

    async def start_recording(self, call_id: str) -> str:
        """Record a call in progress, where its recording policy allows it (on demand or always)."""
        flow = self.table.of_call(call_id)
        if flow.policy is RecordingPolicy.NEVER:
            raise PermissionDenied(f"call {call_id} may not be recorded: its recording policy is never")
        return await bridge.start_recording(flow)

    async def stop_recording(self, call_id: str) -> None:
        """Stop recording a call in progress."""
        await bridge.stop_recording(self.table.of_call(call_id))

    async def hang_up(self, call_id: str) -> None:
        await actions.hang_up(self.table.of_call(call_id))

    async def transfer(self, call_id: str, dest: Destination, party: str) -> None:
        await actions.transfer(self.table.of_call(call_id), dest, party)

    async def redirect(self, call_id: str, dest: Destination) -> None:
        await actions.redirect(self.table.of_call(call_id), dest)

    async def hold(self, call_id: str, party: str) -> None:
        await actions.hold(self.table.of_call(call_id), party)

    async def resume(self, call_id: str) -> str:
        return await actions.resume(self.table.of_call(call_id))
