"""Actions on calls in progress, by call id (the API's and, later, the console's and bots' call control)."""

from __future__ import annotations

from core.calls.live import CallTable
from core.calls.steps import bridge
from core.errors import PermissionDenied
from core.routing import RecordingPolicy


class CallControl:
    """What can be done to a live call from outside it."""

    def __init__(self, table: CallTable) -> None:
        self.table = table

    async def start_recording(self, call_id: str) -> str:
        """Record a call in progress, where its recording policy allows it (on demand or always)."""
        flow = self.table.of_call(call_id)
        if flow.policy is RecordingPolicy.NEVER:
            raise PermissionDenied(f"call {call_id} may not be recorded: its recording policy is never")
        return await bridge.start_recording(flow)

    async def stop_recording(self, call_id: str) -> None:
        """Stop recording a call in progress."""
        await bridge.stop_recording(self.table.of_call(call_id))
