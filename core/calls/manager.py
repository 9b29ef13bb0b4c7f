"""Stasis entry points, the channel table and resync.

Raw ARI events arrive through ``on_ari_event`` (synchronous, called from the ARI pump: it only routes).
A StasisStart is dispatched on ``args[0]`` through a table; every later event goes to the queue of the
call that owns the channel. Each call runs in its own task (core/calls/flow.py), so one call's failure or
slowness never touches another, and any exception leaves the caller hung up and the record closed.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from core.ari.client import AriClient, AriError
from core.calls import refer
from core.calls.adoption import Bridged, adopt, bridged_calls
from core.calls.control import CallControl
from core.calls.deps import CallDeps
from core.calls.flow import BRIDGE_PREFIX, CHANNEL_PREFIX, CallFlow, Event
from core.calls.live import CallTable, LiveCall
from core.calls.loop import run_call
from core.calls.monitor import Monitors
from core.calls.pickup import pick_up
from core.calls.queues import QueueBoard
from core.calls.steps.bridge import talk_on
from core.events import DomainEvent, QueueAgentLoggedIn, QueueAgentLoggedOut, QueueAgentPaused, QueueChanged
from core.routing.pickup import pickup_request
from core.services.provisioning import ENDPOINT_EVENTS

logger = logging.getLogger(__name__)


class CallManager:
    """Routes ARI events to call flows and keeps the live-call view."""

    #: the ARI events the flows act on; Asterisk is asked to send no others
    ARI_EVENTS = frozenset(
        {
            "StasisStart",
            "StasisEnd",
            "ChannelHangupRequest",
            "ChannelDestroyed",
            "EndpointStateChange",
            "ChannelDtmfReceived",
            "PlaybackFinished",
            "ChannelTransfer",
        }
    )

    def __init__(self, deps: CallDeps) -> None:
        self.deps = deps
        self.table = CallTable()
        self.monitors = Monitors(self.table, deps, self._spawn)  # supervisors on calls
        self.control = CallControl(self.table, deps, self.monitors)  # actions on live calls, by call id
        self.queues = QueueBoard(
            deps.lookups.queue,
            deps.directory.online,
            self.table.in_calls,
            deps.publish,
            history=deps.lookups.queue_history,
        )
        self._recent_events: collections.deque[tuple[Any, ...]] = collections.deque(maxlen=64)
        self._tasks: set[asyncio.Task[None]] = set()
        self._stasis_dispatch: dict[str, Callable[[Event, list[str]], Awaitable[None] | None]] = {
            "internal": self._start_internal,
            "inbound": self._start_inbound,
            "dialed": self._route_dialed,
            "clicktocall": self._start_placed,
            "monitor": lambda event, args: self._spawn(
                self.monitors.answered(args[0] if args else ""), "monitor"
            ),
            "snoop": lambda event, args: self._spawn(
                self.monitors.snooping(args[0] if args else ""), "snoop"
            ),
        }

    @property
    def live(self) -> dict[str, LiveCall]:
        """Calls in progress by call id."""
        return self.table.live

    @property
    def endpoints(self) -> dict[str, str]:
        """PJSIP endpoint → "online" | "offline", from ARI."""
        return self.deps.directory.endpoints

    # -- ARI side -------------------------------------------------------------------------------
    def on_ari_event(self, event: Event) -> None:
        """Route one raw ARI event. Must stay synchronous and fast (it runs in the ARI pump)."""
        if self._seen_before(event):
            return
        channel_id = (event.get("channel") or {}).get("id")
        if event.get("type") == "EndpointStateChange":
            endpoint = event.get("endpoint") or {}
            if endpoint.get("technology") == "PJSIP":
                resource, state = endpoint.get("resource", ""), endpoint.get("state", "unknown")
                if self.deps.directory.endpoint_changed(resource, state):
                    self.queues.refresh()
            return
        if event.get("type") == "PlaybackFinished":  # addressed by its target, "channel:<id>"
            target = str((event.get("playback") or {}).get("target_uri", ""))
            channel_id = target.removeprefix("channel:") if target.startswith("channel:") else None
        if event.get("type") == "ChannelTransfer":  # a phone's REFER, on the channel it came in on
            self._phone_transfer(event)
            return
        if event.get("type") == "StasisStart":
            args = [str(a) for a in event.get("args") or []]
            handler = self._stasis_dispatch.get(args[0] if args else "", self._start_unknown)
            handler(event, args[1:])
            return
        flow = self.table.get(channel_id or "")
        if flow is not None:
            flow.events.put_nowait(event)
        elif self.monitors.active:
            self.monitors.on_event(event)

    def _phone_transfer(self, event: Event) -> None:
        """A call is transferred by its phone only while it is answered and bridged; else the phone is
        told no at once (it would wait for an answer that never comes)."""
        if event.get("state"):  # Asterisk echoing the progress we reported: not a new REFER
            return
        channel_id = refer.source_channel(event)
        flow = self.table.get(channel_id or "")
        if flow is not None and flow.talking:
            self._spawn(refer.on_transfer(flow, event), f"refer-{channel_id}")
        else:
            self._spawn(refer.decline(self.deps, channel_id), "refer-declined")

    def _seen_before(self, event: Event) -> bool:
        """Asterisk sends a channel's events once for our app and once more for the endpoint
        subscription (registrations): a key pressed must count once. Events are told apart by type,
        timestamp (microseconds), channel or playback, and key."""
        if event.get("type") not in ("ChannelDtmfReceived", "PlaybackFinished", "ChannelTransfer"):
            return False  # the others are idempotent for the flows
        key = (
            event.get("type"),
            event.get("timestamp"),
            (event.get("channel") or event.get("playback") or {}).get("id") or refer.source_channel(event),
            event.get("digit"),
        )
        if key in self._recent_events:
            return True
        self._recent_events.append(key)
        return False

    def _start_internal(self, event: Event, args: list[str]) -> None:
        dialled, settings = args[0] if args else "", self.deps.settings
        request = pickup_request(dialled, settings.pickup_code, settings.directed_pickup_prefix)
        if request is not None:  # a feature code: this phone answers a call ringing elsewhere
            self._spawn(pick_up(self.table, self.deps, event["channel"], request), "pickup")
            return
        self._start(event, dialled, inbound=False)

    def _start_inbound(self, event: Event, args: list[str]) -> None:
        self._start(event, args[0] if args else "", inbound=True)

    def _start(self, event: Event, dialled: str, inbound: bool) -> None:
        flow = CallFlow(self.deps, self.table, self.queues, event["channel"], dialled, inbound)
        self.table.own(flow.caller_id, flow)
        self._spawn(flow.run(run_call), f"call-{flow.caller_id}")

    def _start_placed(self, event: Event, args: list[str]) -> None:
        """Click-to-call: the phone of `from` answered (args: call id, from, to); now it calls `to`, as
        if it had dialled it."""
        call_id, number, dialled = [*args, "", "", ""][:3]
        info = self.deps.directory.get(number)
        channel = {**event["channel"], "caller": {"number": number, "name": info.name if info else ""}}
        flow = CallFlow(self.deps, self.table, self.queues, channel, dialled, inbound=False)
        flow.live.call_id, flow.answered = call_id or flow.live.call_id, True
        self.table.own(flow.caller_id, flow)
        self._spawn(flow.run(run_call), f"placed-{flow.caller_id}")

    def _route_dialed(self, event: Event, args: list[str]) -> None:
        flow = self.table.get(event["channel"]["id"])
        if flow is not None:
            flow.events.put_nowait(event)
        else:  # a leg whose call is gone (e.g. the daemon restarted): nobody wants it
            self._spawn(self._hangup_orphan(event["channel"]["id"]), "orphan")

    def _start_unknown(self, event: Event, args: list[str]) -> None:
        logger.warning("StasisStart with unknown args %r; hanging up", event.get("args"))
        self._spawn(self._hangup_orphan(event["channel"]["id"], "congestion"), "unknown")

    async def _hangup_orphan(self, channel_id: str, reason: str = "normal") -> None:
        if self.deps.ari.current:
            with contextlib.suppress(AriError):
                await self.deps.ari.current.hangup(channel_id, reason)

    def _spawn(self, coro: Awaitable[None], name: str) -> None:
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def flow_of_channel(self, channel_id: str) -> CallFlow | None:
        """The flow that owns a channel, if any."""
        return self.table.get(channel_id)

    def resume_bridged(self, bridged: Bridged, caller_channel: Event) -> CallFlow:
        """Own a call a previous daemon left bridged, and follow it until it ends."""
        flow = CallFlow.adopted(self.deps, self.table, self.queues, bridged, caller_channel)
        for channel_id in flow.channels():
            self.table.own(channel_id, flow)
        self.table.show(flow.live)
        self._spawn(flow.run(talk_on, "adopted call"), f"adopted-{flow.caller_id}")
        return flow

    # -- connection lifecycle -------------------------------------------------------------------
    async def load_directory(self) -> None:
        """Read the internal numbers and queues routing needs (at start; events keep them current)."""
        await self.queues.open_all(await self.deps.lookups.queue_names())
        self.deps.directory.extensions = await self.deps.lookups.extensions()

    def on_domain_event(self, event: DomainEvent) -> None:
        """Keep the directory and the queues in step with changes made through the services."""
        self.deps.directory.apply(event)
        if isinstance(event, QueueChanged | QueueAgentLoggedIn | QueueAgentLoggedOut | QueueAgentPaused):
            self.queues.reload(event.queue)

    async def resync(self, client: AriClient) -> None:
        """After a (re)connect: refresh registrations, and tell flows about channels that vanished."""
        with contextlib.suppress(AriError):  # refused while no PJSIP endpoint exists; provisioning retries
            await client.subscribe(ENDPOINT_EVENTS)
        self.deps.directory.endpoints = {
            e["resource"]: e.get("state", "unknown") for e in await client.list_endpoints("PJSIP")
        }
        self.deps.ari.current = client
        channels = await client.list_channels()
        existing = {c["id"] for c in channels}
        for channel_id, flow in self.table.owned():
            if channel_id not in existing:
                flow.events.put_nowait(
                    {"type": "ChannelDestroyed", "channel": {"id": channel_id}, "cause": 16, "resync": True}
                )
        await self._clear_orphans(client, channels)

    def _is_ours(self, channel: Event) -> bool:
        dialplan = channel.get("dialplan") or {}
        in_our_app = (
            dialplan.get("app_name") == "Stasis"
            and str(dialplan.get("app_data", "")).split(",")[0] == self.deps.app
        )
        return in_our_app or channel["id"].startswith(CHANNEL_PREFIX)

    async def _clear_orphans(self, client: AriClient, channels: list[Event]) -> None:
        """Calls in our app that no flow owns (the daemon restarted mid-call): answered, bridged ones are
        taken over (adoption.py); the others can't be resumed and are ended, their records closed. A
        caller left in silence is worse."""
        live = {str(c["id"]): c for c in channels}
        owned_bridges = {flow.bridge_id for flow in self.table.flows()}
        unowned = [b for b in await client.list_bridges() if b["id"] not in owned_bridges]
        unowned_channels = {c for c in live if c not in self.table}
        found, stale = await bridged_calls(self.deps.log, unowned, unowned_channels, BRIDGE_PREFIX)
        await adopt(self, client, found, live)
        orphans = [c for c in channels if c["id"] not in self.table and self._is_ours(c)]
        for channel in orphans:
            with contextlib.suppress(AriError):
                await client.hangup(channel["id"], "normal" if channel.get("state") == "Up" else "congestion")
        for bridge_id in stale:
            with contextlib.suppress(AriError):
                await client.destroy_bridge(bridge_id)
        closed = await self.deps.log.close_interrupted(in_progress=self.live)
        if orphans or stale or closed:
            logger.warning(
                "ended %d orphaned channels and %d bridges left by a previous run; closed %d call records",
                len(orphans),
                len(stale),
                closed,
            )

    def detach(self) -> None:
        """ARI went away; flows keep their state until resync."""
        self.deps.ari.current = None

    async def close(self) -> None:
        """Stop all flows (daemon shutdown); their records are closed as interrupted at next start."""
        self.queues.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
