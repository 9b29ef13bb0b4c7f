"""Supervisors on calls in progress: listen (hear both sides, unheard), whisper (talk to one party only)
and barge (join the call). The supervisor's phone is rung; when it answers, it joins the call's bridge
(barge), or a bridge of its own with an ARI snoop on the party's channel (listen, whisper). A supervisor
leaves when it hangs up, or when the call ends."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from core.ari.client import AriError
from core.calls.actions import party_channel
from core.calls.deps import CallDeps
from core.calls.flow import BRIDGE_PREFIX, CHANNEL_PREFIX, GONE, CallFlow, Event, channel_of
from core.calls.live import CallTable
from core.calls.steps.bridge import CallNotUp
from core.errors import Conflict, InvalidInput

logger = logging.getLogger(__name__)

MODES = ("listen", "whisper", "barge")
#: (spy, whisper) of the snoop: hear both directions; whisper into what the party hears ("out")
SNOOP = {"listen": ("both", "none"), "whisper": ("both", "out")}


@dataclass
class Monitor:
    """One supervisor on one call."""

    id: str
    call_id: str
    supervisor: str
    mode: str
    party: str  # the channel snooped on (listen, whisper)
    channel: str  # the supervisor's channel
    snoop: str | None = None
    bridge: str | None = None


class Monitors:
    """The supervisors on calls now, by id and by channel."""

    def __init__(self, table: CallTable, deps: CallDeps, spawn: Callable[[Awaitable[None], str], None]):
        self.table, self.deps, self._spawn = table, deps, spawn
        self.active: dict[str, Monitor] = {}

    async def start(self, flow: CallFlow, supervisor: str, mode: str, party: str) -> Monitor:
        """Ring the supervisor's phone for this call; it joins when it answers."""
        if mode not in MODES:
            raise InvalidInput(f"mode {mode!r} must be listen, whisper or barge")
        if not flow.talking or flow.bridge_id is None:
            raise CallNotUp(f"call {flow.live.call_id} is not answered: there is nothing to listen to yet")
        channel_of_party = party_channel(flow, party)
        if supervisor in (flow.caller_number, flow.answered_number):
            raise Conflict(f"{supervisor} is on call {flow.live.call_id} already")
        if not self.deps.directory.online(supervisor):
            raise Conflict(f"{supervisor} has no phone registered: it cannot be rung to {mode}")
        monitor = Monitor(
            str(uuid.uuid4()),
            flow.live.call_id,
            supervisor,
            mode,
            channel_of_party,
            f"{CHANNEL_PREFIX}{uuid.uuid4()}",
        )
        self.active[monitor.id] = monitor
        try:
            await self.deps.ari.client.originate(
                f"PJSIP/{supervisor}",
                monitor.channel,
                f"monitor,{monitor.id}",
                f'"{mode}: {flow.caller_name or flow.caller_number}" <{flow.caller_number}>',
                self.deps.settings.ring_timeout,
            )
        except AriError as exc:
            self.active.pop(monitor.id, None)
            raise Conflict(f"Asterisk could not ring {supervisor}: {exc}") from None
        flow.ending.append(lambda: self.stop(monitor.id))
        return monitor

    def _flow(self, monitor: Monitor) -> CallFlow | None:
        with contextlib.suppress(Exception):
            return self.table.of_call(monitor.call_id)
        return None

    async def answered(self, monitor_id: str) -> None:
        """The supervisor's phone answered: barge into the bridge, or snoop on the party."""
        monitor = self.active.get(monitor_id)
        flow = self._flow(monitor) if monitor else None
        if monitor is None or flow is None or flow.bridge_id is None:  # the call ended meanwhile
            if monitor is not None:
                await self.stop(monitor.id)
            return
        client = self.deps.ari.client
        if monitor.mode == "barge":
            await client.add_to_bridge(flow.bridge_id, [monitor.channel])
            return
        spy, whisper = SNOOP[monitor.mode]
        monitor.snoop = f"{CHANNEL_PREFIX}snoop-{uuid.uuid4()}"
        await client.snoop(monitor.party, monitor.snoop, spy, whisper, f"snoop,{monitor.id}")

    async def snooping(self, monitor_id: str) -> None:
        """The snoop on the party is in our app: bridge it with the supervisor."""
        monitor = self.active.get(monitor_id)
        if monitor is None or monitor.snoop is None:
            return
        client = self.deps.ari.client
        monitor.bridge = f"{BRIDGE_PREFIX}monitor-{monitor.id}"
        await client.create_bridge(monitor.bridge)
        await client.add_to_bridge(monitor.bridge, [monitor.channel, monitor.snoop])

    def on_event(self, event: Event) -> bool:
        """A supervisor's channel event: its hangup ends the monitoring. True when it was one."""
        channel = channel_of(event)
        for monitor in self.active.values():
            if channel in (monitor.channel, monitor.snoop):
                if event.get("type") in GONE:
                    self._spawn(self.stop(monitor.id), "monitor-end")
                return True
        return False

    async def stop(self, monitor_id: str) -> None:
        """The supervisor leaves: its phone and the snoop are hung up, its bridge destroyed."""
        monitor = self.active.pop(monitor_id, None)
        client = self.deps.ari.current
        if monitor is None or client is None:
            return
        for channel in (monitor.channel, monitor.snoop):
            if channel:
                with contextlib.suppress(AriError):
                    await client.hangup(channel, "normal")
        if monitor.bridge:
            with contextlib.suppress(AriError):
                await client.destroy_bridge(monitor.bridge)
