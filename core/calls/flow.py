"""The state of one call (its channels, its event queue, its records) and the primitives every step uses.

A flow runs in its own task: `run` carries a body (the routing loop, or an adopted call's talk) and makes
any exception fail safe: every channel hung up (503 to a caller not yet answered), the record closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from core.ari.client import AriClient, AriError
from core.calls.adoption import Bridged, answered_number
from core.calls.deps import CallDeps
from core.calls.live import CallTable, LiveCall
from core.calls.queues import QueueBoard
from core.calls.records import CallRecords
from core.routing import Disposition, RecordingPolicy, is_external, recording_policy, to_e164
from core.routing.destinations import Destination

if TYPE_CHECKING:
    from core.calls.attended import Consult

logger = logging.getLogger(__name__)

Event = dict[str, Any]
CHANNEL_PREFIX = "pbx-"  # ids of the channels we originate
BRIDGE_PREFIX = "pbx-bridge-"
# Events after which a channel is of no more use to a flow.
GONE = frozenset({"StasisEnd", "ChannelDestroyed", "ChannelHangupRequest"})


def channel_of(event: Event) -> str | None:
    return (event.get("channel") or {}).get("id")


@dataclass(frozen=True)
class Target:
    """One number to ring: what is dialled, what the leg records, the caller ID shown."""

    number: str
    endpoint: str
    leg_endpoint: str
    caller_id: str


class CallFlow:
    """One call: what it is, where it is, and what it has written."""

    def __init__(
        self,
        deps: CallDeps,
        calls: CallTable,
        queues: QueueBoard,
        caller_channel: Event,
        dialled: str,
        inbound: bool,
    ) -> None:
        self.deps, self.calls, self.queues = deps, calls, queues
        self.events: asyncio.Queue[Event] = asyncio.Queue()
        self.caller_chan = caller_channel
        self.caller_id: str = caller_channel["id"]
        caller = caller_channel.get("caller") or {}
        self.caller_number = str(caller.get("number") or "")
        self.caller_name = str(caller.get("name") or "")
        self.inbound = inbound
        if inbound:  # an outside caller: shown in E.164 when it is a number at all
            country = deps.settings.country
            self.caller_number = to_e164(self.caller_number, country) or self.caller_number or "anonymous"
        self.direction = "inbound" if inbound else ("outbound" if is_external(dialled) else "internal")
        self.dialled = dialled
        self.callee_id: str | None = None  # the leg being rung (or talking) now
        self.dialled_ids: list[str] = []  # every leg this call dialled, forwards included
        self.bridge_id: str | None = None
        self.records = CallRecords(deps.log)
        self.live = LiveCall(
            str(uuid.uuid4()),
            self.caller_number,
            self.caller_name,
            dialled,
            "routing",
            datetime.now(UTC),
            channels=[self.caller_id],
        )
        self.ringing_now: dict[str, Target] = {}  # legs ringing at this moment
        self.ringing_caller: asyncio.Future[None] | None = None  # the 180 sent to the caller
        self.recording_policies: list[str] = []  # of the route and groups the call passed through
        self.recording_name: str | None = None
        self.policy = RecordingPolicy.NEVER
        self.answered = False  # the caller's channel is answered (by an IVR, a queue, voicemail or a callee)
        self.answered_number: str | None = None  # who the caller is talking to
        self.talk_started: datetime | None = None  # when they were bridged
        self.holding: str | None = None  # the music on hold class the caller hears, if any
        self.playback: str | None = None  # the playback the caller hears (a prompt or an announcement)
        # set while a queue offers this caller to agents: told who answered, and who did not (and why)
        self.on_answer: Callable[[str], None] | None = None
        self.on_unanswered: Callable[[str, int | None], None] | None = None
        # set while a queue's agent talks to this caller: told when an operator releases the agent
        # (a transfer), so that it wraps up then, not when the transferred call ends
        self.on_released: Callable[[str], None] | None = None
        # call control (core/calls/actions.py): where an operator sends the call next (a transfer or a
        # redirect, followed by the routing loop), and the party put on hold (out of the bridge, music)
        self.reroute: Destination | None = None
        self.held: str | None = None
        self.consult: Consult | None = None  # an attended transfer's destination, while consulted
        # a side a phone's attended transfer (core/calls/refer.py) took into its other call: this call
        # ends without hanging it up
        self.handed_over: str | None = None
        self.ending: list[Callable[[], Awaitable[None]]] = []  # run when the call is over (supervisors)

    @classmethod
    def adopted(
        cls, deps: CallDeps, calls: CallTable, queues: QueueBoard, bridged: Bridged, caller_channel: Event
    ) -> CallFlow:
        """The flow of a call a previous daemon bridged: answered, its records open (see adoption.py)."""
        call, callee = bridged.call, bridged.callee.channel_id
        flow = cls(deps, calls, queues, caller_channel, call.callee, call.direction == "inbound")
        flow.caller_number, flow.caller_name, flow.direction = call.caller, call.caller_name, call.direction
        flow.live = LiveCall(
            call.call_id, call.caller, call.caller_name, call.callee, "up", call.started_at, call.answered_at
        )
        flow.records.resume(call, [bridged.caller, bridged.callee])
        flow.dialled_ids, flow.callee_id, flow.bridge_id = [callee], callee, bridged.bridge_id
        flow.answered, flow.answered_number = True, answered_number(bridged.callee)
        flow.live.answered_by = flow.answered_number
        flow.policy = flow.recording_policy(flow.answered_number)  # of the numbers: the route's is gone
        flow.live.channels = flow.channels()
        return flow

    @property
    def client(self) -> AriClient:
        return self.deps.ari.client

    def channels(self) -> list[str]:
        return [self.caller_id, *self.dialled_ids]

    def own(self, channel_id: str) -> None:
        """A channel this call dials: its events come to this flow."""
        self.dialled_ids.append(channel_id)
        self.calls.own(channel_id, self)

    @property
    def talking(self) -> bool:
        """Answered and bridged (or one side on hold)."""
        return self.live.state in ("up", "held") and self.callee_id is not None

    def release_agent(self) -> None:
        """The answered party is released from the call (a transfer): a queue's agent wraps up now."""
        if self.on_released is not None and self.answered_number is not None:
            self.on_released(self.answered_number)
            self.on_released = None

    def take_reroute(self) -> Destination | None:
        """Where an operator sent the call, once (None when nobody did)."""
        dest, self.reroute = self.reroute, None
        return dest

    def swap_parties(self) -> None:
        """The callee becomes the caller (to transfer the callee: the loop routes the caller)."""
        assert self.callee_id is not None
        old_caller, old_number = self.caller_id, self.caller_number
        self.caller_id, self.callee_id = self.callee_id, old_caller
        self.dialled_ids = [c for c in self.dialled_ids if c != self.caller_id] + [old_caller]
        number = self.answered_number or ""
        self.caller_number, self.answered_number = number, old_number
        info = self.deps.directory.get(number)
        self.caller_name = info.name if info else ""
        self.inbound = is_external(number)

    def wake(self) -> None:
        """Look again (a queue has news for this waiting caller)."""
        self.events.put_nowait({"type": "QueueWake"})

    async def next_event(self, timeout: float | None) -> Event | None:
        """The call's next event, or None after `timeout` seconds (at once when none is waiting and the
        timeout has run out: wait_for would then drop a waiting event)."""
        if timeout is not None and timeout <= 0:
            return self.events.get_nowait() if not self.events.empty() else None
        try:
            return await asyncio.wait_for(self.events.get(), timeout)
        except TimeoutError:
            return None

    def caller_left(self, event: Event) -> bool:
        return channel_of(event) == self.caller_id and event["type"] in GONE

    async def run(self, body: Callable[[CallFlow], Awaitable[None]], what: str = "call") -> None:
        """Carry the call through `body`; whatever goes wrong, nobody is left hanging."""
        try:
            await body(self)
        except Exception:
            logger.exception("%s %s failed; hanging up its channels", what, self.live.call_id)
            await self.fail_safe()
        finally:
            self.calls.forget(self)
            self.queues.refresh()  # its numbers may be free for queue calls again
            for end in self.ending:  # supervisors listening leave with the call
                try:
                    await end()
                except Exception:
                    logger.exception("call %s: could not end a supervisor's session", self.live.call_id)

    # -- channels -------------------------------------------------------------------------------
    async def hangup_quietly(self, channel_id: str | None, reason: str = "normal") -> None:
        if not channel_id:
            return
        with contextlib.suppress(AriError):  # already gone, or Asterisk away: nothing left to hang up
            await self.client.hangup(channel_id, reason)

    async def destroy_bridge(self) -> None:
        if self.bridge_id:
            with contextlib.suppress(AriError):
                await self.client.destroy_bridge(self.bridge_id)

    async def cause_of(self, channel_id: str, event: Event, wait: float = 1.0) -> int | None:
        """The hangup cause of a leaving channel: StasisEnd has none, its ChannelDestroyed follows."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while "cause" not in event:
            next_event = await self.next_event(max(deadline - loop.time(), 0))
            if next_event is None:
                return None
            if next_event["type"] in ("ChannelDestroyed", "ChannelHangupRequest") and (
                channel_of(next_event) == channel_id
            ):
                event = next_event
        return event.get("cause")

    async def leaving(self, channels: tuple[str, ...], wait: float = 1.0) -> Event | None:
        """The event of the first of `channels` to leave within `wait` seconds, if any does."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while (event := await self.next_event(deadline - loop.time())) is not None:
            if channel_of(event) in channels and event["type"] in GONE:
                return event
        return None

    async def stop_ringing(self, callee: str, disposition: Disposition, cause: int) -> None:
        await self.hangup_quietly(callee)
        await self.records.end_leg(callee, disposition.value, cause)
        self.ringing_now.pop(callee, None)

    async def cancelled(self, cause: int | None) -> None:
        """The caller hung up before the call was answered."""
        self.reroute = None
        for callee in list(self.ringing_now):
            await self.hangup_quietly(callee)
            await self.records.end_leg(callee, Disposition.CANCELLED.value, None)
        self.ringing_now = {}
        await self.records.end_leg(self.caller_id, Disposition.CANCELLED.value, cause)
        await self.records.finish(Disposition.CANCELLED)

    def recording_policy(self, answered_by: str) -> RecordingPolicy:
        """The strongest policy of everything the call touched: route, groups, caller and callee numbers."""
        directory = self.deps.directory
        numbers = (directory.get(answered_by), directory.get(self.caller_number))
        return recording_policy([*self.recording_policies, *(info.recording for info in numbers if info)])

    async def fail_safe(self) -> None:
        """After an error: nobody is left hanging, and the record says the PBX failed."""
        self.reroute = None
        answered = self.live.state in ("up", "held")
        if self.caller_id != self.handed_over:
            await self.hangup_quietly(self.caller_id, "normal" if answered else "congestion")
        consulted = [self.consult.channel] if self.consult else []
        for callee in [self.callee_id, *self.ringing_now, *consulted]:
            if callee != self.handed_over:
                await self.hangup_quietly(callee)
        await self.destroy_bridge()
        await self.records.close_failed(self.channels(), None if answered else 503)
