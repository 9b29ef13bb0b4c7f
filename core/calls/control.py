"""Actions on calls in progress, by call id: what the LiveCallService (core/services/live_calls.py) asks
of the call engine for the API and, later, the console and the bots. Who may act is checked there."""

from __future__ import annotations

import uuid
from typing import Any

from core.ari.client import AriError
from core.calls import actions
from core.calls.deps import CallDeps
from core.calls.flow import CHANNEL_PREFIX, CallFlow, Target
from core.calls.live import CallTable
from core.calls.monitor import Monitors
from core.calls.steps import bridge
from core.calls.steps.dial import display_name, target
from core.errors import Conflict, InvalidInput, PermissionDenied
from core.routing import RecordingPolicy, Refusal, decide_forward_external
from core.routing.destinations import Destination, DestinationKind


class CallControl:
    """What can be done to a live call from outside it."""

    def __init__(self, table: CallTable, deps: CallDeps, monitors: Monitors) -> None:
        self.table, self.deps, self.monitors = table, deps, monitors

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

    async def transfer(self, call_id: str, dest: Destination, party: str, attended: bool = False) -> None:
        flow = self.table.of_call(call_id)
        if not attended:
            await actions.transfer(flow, dest, party)
            return
        to, number = await self._consulted(flow, dest)
        await actions.consult(flow, to, number, dest, party)

    async def complete_transfer(self, call_id: str) -> tuple[str, str]:
        return await actions.complete_transfer(self.table.of_call(call_id))

    async def cancel_transfer(self, call_id: str) -> tuple[str, str]:
        return await actions.cancel_transfer(self.table.of_call(call_id))

    async def _consulted(self, flow: CallFlow, dest: Destination) -> tuple[Target, str]:
        """How to ring an attended transfer's destination (a number: a phone, or outside), showing the
        operator's number as the caller."""
        operator = flow.answered_number or ""
        if dest.kind is DestinationKind.EXTENSION:
            info = self.deps.directory.get(operator)
            name = display_name(info.name if info and info.name else operator)
            endpoint = f"PJSIP/{dest.target}"
            return Target(dest.target, endpoint, endpoint, f'"{name}" <{operator}>'), dest.target
        if dest.kind is DestinationKind.EXTERNAL:
            dial = decide_forward_external(dest.target, await self.deps.lookups.outbound_trunk())
            if isinstance(dial, Refusal):
                raise Conflict(f"no trunk can reach {dest.target} now")
            return target(flow, dial), dest.target
        raise InvalidInput(
            f"an attended transfer consults a number (ext:103 or external:+15551234567), not {dest}: "
            "transfer blind to reach a group, queue or menu"
        )

    async def redirect(self, call_id: str, dest: Destination) -> None:
        await actions.redirect(self.table.of_call(call_id), dest)

    async def hold(self, call_id: str, party: str) -> None:
        await actions.hold(self.table.of_call(call_id), party)

    async def resume(self, call_id: str) -> str:
        return await actions.resume(self.table.of_call(call_id))

    async def listen(self, call_id: str, supervisor: str, mode: str, party: str) -> str:
        """Ring `supervisor` to listen to, whisper to `party` of, or barge into a call; the session's id."""
        monitor = await self.monitors.start(self.table.of_call(call_id), supervisor, mode, party)
        return monitor.id

    async def place(self, from_number: str, to: str) -> str:
        """Click-to-call: ring `from_number`'s phone; when it answers, the call to `to` is placed as
        its own (the manager's `clicktocall` start). Returns the call's id, known before it exists."""
        client = self.deps.ari.current
        if client is None:
            raise Conflict("Asterisk is not connected: try again in a moment")
        if not self.deps.directory.online(from_number):
            raise Conflict(f"{from_number} has no phone registered: it cannot be rung to place the call")
        call_id, channel = str(uuid.uuid4()), f"{CHANNEL_PREFIX}{uuid.uuid4()}"
        try:
            await client.originate(
                f"PJSIP/{from_number}",
                channel,
                f"clicktocall,{call_id},{from_number},{to}",
                f'"{display_name(to)}" <{to}>',  # the phone shows whom it is about to call
                self.deps.settings.ring_timeout,
            )
        except AriError as exc:
            raise Conflict(f"Asterisk could not ring {from_number}: {exc}") from None
        return call_id
