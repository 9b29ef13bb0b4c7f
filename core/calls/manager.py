"""Stasis entry points and per-call flows.

Raw ARI events arrive through ``on_ari_event`` (synchronous, called from the ARI pump: it only routes).
A StasisStart is dispatched on ``args[0]`` through a table; every later event goes to the queue of the
call that owns the channel. Each call runs in its own task, so one call's failure or slowness never
touches another, and any exception leaves the caller hung up and the record closed (fail safe).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import logging
import math
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from core.ari.client import AriClient, AriError, ChannelGone
from core.calls.adoption import Bridged, adopt, answered_number, bridged_calls
from core.calls.queues import QueueBoard, QueueRuntime, Waiter
from core.config import CallSettings
from core.errors import DomainError, NotFound, PermissionDenied
from core.events import (
    DomainEvent,
    ExtensionAdded,
    ExtensionRemoved,
    ExtensionUpdated,
    ForwardingChanged,
    QueueAgentLoggedIn,
    QueueAgentLoggedOut,
    QueueAgentPaused,
    QueueChanged,
)
from core.models import Call, CallLeg, Extension, InboundRoute, Queue, Trunk
from core.routing import (
    REFUSALS,
    Blocked,
    CallerLists,
    Decision,
    DialExtension,
    DialExternal,
    Disposition,
    EnterIvr,
    ExtensionInfo,
    Forward,
    ForwardCondition,
    GroupInfo,
    JoinQueue,
    LeaveVoicemail,
    OutboundPermission,
    RecordingPolicy,
    Refusal,
    Rerouted,
    RingGroup,
    Scheduled,
    ScheduleInfo,
    TrunkInfo,
    after_unanswered,
    combined_outcome,
    decide_forward_external,
    decide_internal,
    decide_outbound,
    decide_schedule,
    destination_target,
    forward_rules,
    forward_target,
    inbound_destination,
    is_external,
    outcome_of_unanswered_leg,
    permission_needed,
    plan_group,
    recording_policy,
    screen_caller,
    to_e164,
)
from core.routing.destinations import Destination, parse_destination
from core.routing.ivr import (
    DIGIT_WAIT,
    INVALID_PROMPT,
    NO_SUCH_NUMBER_PROMPT,
    Input,
    IvrInfo,
    MenuStep,
    digits_complete,
    pressed,
)
from core.routing.queues import QueueInfo, announcement
from core.services.calls import CallLog
from core.services.provisioning import ENDPOINT_EVENTS, sip_host, trunk_endpoint_id

logger = logging.getLogger(__name__)

Event = dict[str, Any]
T = TypeVar("T")
CHANNEL_PREFIX = "pbx-"
VOICEMAIL_MAX_SECONDS = 180  # a message longer than this is cut
VOICEMAIL_MAX_SILENCE = 10  # seconds of silence that end a message  # ids of the channels we originate
BRIDGE_PREFIX = "pbx-bridge-"
PLAYBACK_PREFIX = "pbx-playback-"
PROMPT_LIMIT = 300  # seconds a menu prompt may play before the menu stops waiting for its end
REFUSAL_TONE_SECONDS = 3.0  # how long an answered caller hears busy (or congestion) before the PBX hangs up
QUEUE_LOOK_AGAIN = 1.0  # seconds between a waiting caller's looks for a ready agent, wake-ups aside
# Events after which a channel is of no more use to a flow.
_GONE = {"StasisEnd", "ChannelDestroyed", "ChannelHangupRequest"}


@dataclass
class LiveCall:
    """What the console and API show of a call in progress."""

    call_id: str
    caller: str
    caller_name: str
    callee: str
    state: str  # routing | ringing | up
    started_at: datetime
    answered_at: datetime | None = None
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
        }


@dataclass(frozen=True)
class _Target:
    """One number to ring: what is dialled, what the leg records, the caller ID shown."""

    number: str
    endpoint: str
    leg_endpoint: str
    caller_id: str


class _CallFlow:
    """The state of one call: its channels, its event queue, its records."""

    def __init__(self, manager: CallManager, caller_channel: Event, dialled: str, inbound: bool) -> None:
        self.m = manager
        self.queue: asyncio.Queue[Event] = asyncio.Queue()
        self.caller_chan = caller_channel
        self.caller_id = caller_channel["id"]
        caller = caller_channel.get("caller") or {}
        self.caller_number = str(caller.get("number") or "")
        self.caller_name = str(caller.get("name") or "")
        self.inbound = inbound
        if inbound:  # an outside caller: shown in E.164 when it is a number at all
            country = manager.settings.country
            self.caller_number = to_e164(self.caller_number, country) or self.caller_number or "anonymous"
        self.direction = "inbound" if inbound else ("outbound" if is_external(dialled) else "internal")
        self.dialled = dialled
        self.callee_id: str | None = None  # the leg being rung (or talking) now
        self.dialled_ids: list[str] = []  # every leg this call dialled, forwards included
        self.bridge_id: str | None = None
        self.call: Call | None = None
        self.live = LiveCall(
            str(uuid.uuid4()),
            self.caller_number,
            self.caller_name,
            dialled,
            "routing",
            datetime.now(UTC),
            channels=[self.caller_id],
        )
        self._opening: asyncio.Future[Call] | None = None
        self._published: asyncio.Future[None] | None = None  # the last event published, in call order
        self._ringing_caller: asyncio.Future[None] | None = None
        self._ringing_now: dict[str, _Target] = {}  # legs ringing at this moment
        self.recording_policies: list[str] = []  # of the route and groups the call passed through
        self.recording_name: str | None = None
        self.policy = RecordingPolicy.NEVER
        self.legs: dict[str, asyncio.Future[CallLeg]] = {}  # written in the background, in order
        self.answered = False  # the caller's channel is answered (by an IVR, a queue, voicemail or a callee)
        self.answered_number: str | None = None  # who the caller is talking to
        self.holding: str | None = None  # the music on hold class the caller hears, if any
        self.playback: str | None = None  # the playback the caller hears (a prompt or an announcement)
        # set while a queue offers this caller to agents: told who answered, and who did not (and why)
        self.on_answer: Callable[[str], None] | None = None
        self.on_unanswered: Callable[[str, int | None], None] | None = None

    @property
    def client(self) -> AriClient:
        client = self.m.client
        if client is None:
            raise AriError("ARI is not connected")
        return client

    def channels(self) -> list[str]:
        return [self.caller_id, *self.dialled_ids]

    async def next_event(self, timeout: float | None) -> Event | None:
        """The call's next event, or None after `timeout` seconds (at once when none is waiting and the
        timeout has run out: wait_for would then drop a waiting event)."""
        if timeout is not None and timeout <= 0:
            return self.queue.get_nowait() if not self.queue.empty() else None
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None

    # -- the flow -------------------------------------------------------------------------------
    async def run(self) -> None:
        try:
            await self._route()
        except Exception:
            logger.exception("call %s failed; hanging up its channels", self.live.call_id)
            await self._fail_safe()
        finally:
            self.m._forget(self)

    @classmethod
    def adopted(cls, manager: CallManager, bridged: Bridged, caller_channel: Event) -> _CallFlow:
        """The flow of a call a previous daemon bridged: answered, its records open (see adoption.py)."""
        call, callee = bridged.call, bridged.callee.channel_id
        flow = cls(manager, caller_channel, call.callee, call.direction == "inbound")
        flow.caller_number, flow.caller_name, flow.direction = call.caller, call.caller_name, call.direction
        flow.live = LiveCall(
            call.call_id, call.caller, call.caller_name, call.callee, "up", call.started_at, call.answered_at
        )
        flow.call = call
        flow._opening = _done(call)
        flow.legs = {bridged.caller.channel_id: _done(bridged.caller), callee: _done(bridged.callee)}
        flow.dialled_ids, flow.callee_id, flow.bridge_id = [callee], callee, bridged.bridge_id
        flow.answered, flow.answered_number = True, answered_number(bridged.callee)
        flow.policy = flow._recording_policy(flow.answered_number)  # of the numbers: the route's is gone
        flow.live.channels = flow.channels()
        return flow

    async def run_adopted(self) -> None:
        """Go on with an adopted call until one side hangs up."""
        try:
            assert self.callee_id is not None
            await self.talk(self.callee_id)
        except Exception:
            logger.exception("adopted call %s failed; hanging up its channels", self.live.call_id)
            await self._fail_safe()
        finally:
            self.m._forget(self)

    async def _route(self) -> None:
        """Follow the routing decisions (and forwards) until the call is answered or refused."""
        self.m.live[self.live.call_id] = self.live
        # The records are written alongside routing, not before it: set-up time is what callers feel.
        # Every later write awaits them, so the record and its events stay in order.
        self._opening = asyncio.ensure_future(self._open_records())
        self._add_leg(self.caller_id, "caller", self.caller_chan.get("name", ""))
        visited: list[str] = []  # numbers, groups and schedules this call has been routed through
        decision = await self._first_decision()
        while True:
            if isinstance(decision, Forward):
                visited.append(decision.number)
                self._publish_in_order(functools.partial(self._forwarded, decision))
                target = forward_target(decision, visited)
                decision = target if isinstance(target, Refusal) else await self._decide(target)
            elif isinstance(decision, Refusal):
                await self._refuse(decision)
                return
            elif isinstance(decision, RingGroup):
                visited.append(f"group:{decision.group}")
                self.recording_policies.append(decision.recording)
                outcome = await self._ring_group(decision)
                if outcome is None:
                    return
                decision = decision.after_nobody_answered(outcome)
            elif isinstance(decision, Scheduled):
                visited.append(f"schedule:{decision.schedule}")
                self._publish_in_order(functools.partial(self._scheduled, decision))
                target = destination_target(decision.destination)
                if isinstance(target, str) and target in visited:  # schedules sending calls round in a loop
                    target = REFUSALS[Disposition.UNAVAILABLE]
                decision = target if isinstance(target, Refusal) else await self._decide(target)
            elif isinstance(decision, LeaveVoicemail):
                await self._voicemail(decision.mailbox)
                return
            elif isinstance(decision, EnterIvr):
                chosen = await self._ivr(decision.ivr)
                if chosen is None:  # the caller hung up in the menu
                    return
                visited = []  # the caller chose: a new route, where going back to a menu is no loop
                decision = chosen
            elif isinstance(decision, JoinQueue):
                visited.append(f"queue:{decision.queue}")
                queued = await self._queue(decision.queue)
                if queued is None:
                    return
                decision = queued
            else:
                visited.append(decision.number)
                outcome = await self._ring([self._target(decision)], self._ring_seconds(decision))
                if outcome is None:  # answered (and over), or the caller gave up
                    return
                decision = after_unanswered(self.m.directory.get(decision.number), outcome)

    async def _first_decision(self) -> Decision:
        """Inbound calls start at their public number's route; internal ones at the dialled number."""
        settings = self.m.settings
        if self.inbound:
            did = to_e164(self.dialled, settings.country)
            route = await InboundRoute.get_or_none(did=did) if did else None
            if route is None:  # sent to a registration's contact (its username): the trunk's own number
                registering = await Trunk.get_or_none(username=self.dialled, register=True)
                if registering is not None:
                    did = registering.caller_id
                    route = await InboundRoute.get_or_none(did=did)
            if route is not None:
                self.recording_policies.append(route.recording)
            screening = screen_caller(
                self.caller_number, await self.m.caller_lists(), bool(route and route.whitelist_only)
            )
            if isinstance(screening, Blocked):
                self._publish_in_order(functools.partial(self._blocked, screening))
                return screening.refusal
            if isinstance(screening, Rerouted):
                self._publish_in_order(functools.partial(self._rerouted, screening))
                dest: Destination | Refusal = screening.destination
            else:
                routes = {route.did: parse_destination(route.destination)} if route else {}
                dest = inbound_destination(did, routes)
            if isinstance(dest, Refusal):
                return dest
            target = destination_target(dest)
            return target if isinstance(target, Refusal) else await self._decide(target)
        if is_external(self.dialled):
            number = to_e164(self.dialled, settings.country)
            needed = (
                permission_needed(number, settings.country, settings.local_prefixes)
                if number
                else OutboundPermission.INTERNATIONAL
            )
            trunk = await self._trunk()
            return decide_outbound(self.m.directory.get(self.caller_number), number, needed, trunk)
        return await self._decide(self.dialled)

    @staticmethod
    async def _trunk() -> TrunkInfo | None:
        """The trunk calls leave by: the first enabled one, by name."""
        trunk = await Trunk.filter(enabled=True).order_by("name").first()
        return TrunkInfo(trunk.name, trunk.host, trunk.port, trunk.caller_id) if trunk else None

    async def _decide(self, target: str) -> Decision:
        """The decision for an internal number ("101") or any other target by its written form
        ("group:sales", "voicemail:101", "schedule:office", "external:+15551234567", ...)."""
        if target.startswith("external:"):
            return decide_forward_external(target.removeprefix("external:"), await self._trunk())
        if target.startswith("schedule:"):
            schedule = await self.m.schedule(target.removeprefix("schedule:"))
            if schedule is None:
                return REFUSALS[Disposition.UNAVAILABLE]
            return decide_schedule(schedule, datetime.now(UTC))
        if target.startswith("voicemail:"):
            return LeaveVoicemail(target.removeprefix("voicemail:"))
        if target.startswith("ivr:"):
            return EnterIvr(target.removeprefix("ivr:"))
        if target.startswith("queue:"):
            return JoinQueue(target.removeprefix("queue:"))
        if target.startswith("group:"):
            group = await self.m.group(target.removeprefix("group:"))
            if group is None:  # deleted since it was configured
                return REFUSALS[Disposition.UNAVAILABLE]
            return plan_group(group, self._can_take_a_call, random.shuffle)
        info = self.m.directory.get(target)
        if info is None:  # the number of an IVR or a queue?
            owner = await self.m.number_owner(target)
            if owner is not None:
                return await self._decide(owner)
        online = self.m.endpoints.get(target) == "online"
        decision: Decision = self.m.decide(self.caller_number, target, info, online)
        return decision

    def _can_take_a_call(self, number: str) -> bool:
        info = self.m.directory.get(number)
        return bool(info and info.enabled and not info.dnd and self.m.endpoints.get(number) == "online")

    async def _open_records(self) -> Call:
        self.call = await self.m.log.start(
            self.caller_number,
            self.caller_name,
            self.dialled,
            self.direction,
            self.live.call_id,
            self.live.started_at,
        )
        return self.call

    def _add_leg(self, channel_id: str, role: str, endpoint: str) -> None:
        async def write() -> CallLeg:
            return await self.m.log.add_leg(await self._opened(), role, channel_id, endpoint)

        self.legs[channel_id] = asyncio.ensure_future(write())

    def _publish_in_order(self, publish: Callable[[], Awaitable[None]]) -> None:
        """Publish an event of this call in the background, after the ones before it."""
        previous = self._published

        async def chained() -> None:
            if previous is not None:
                await previous
            await publish()

        self._published = asyncio.ensure_future(chained())

    async def _opened(self) -> Call:
        """The call record, once written."""
        assert self._opening is not None, "_route opens the records first"
        return await self._opening

    async def _records(self) -> Call:
        """The call record, once written, and the events before this point published (in order)."""
        if self._published is not None:
            await self._published
        return await self._opened()

    async def _blocked(self, blocked: Blocked) -> None:
        if blocked.entry:
            await self.m.blacklist_hit(blocked.entry)
        await self.m.log.blocked(await self._opened(), blocked.reason, blocked.entry)

    async def _rerouted(self, rerouted: Rerouted) -> None:
        await self.m.log.rerouted(await self._opened(), rerouted.reason, str(rerouted.destination))

    async def _scheduled(self, scheduled: Scheduled) -> None:
        state = "open" if scheduled.is_open else "closed"
        call = await self._opened()
        await self.m.log.rerouted(call, f"schedule:{scheduled.schedule} {state}", str(scheduled.destination))

    async def _forwarded(self, forward: Forward) -> None:
        call = await self._opened()
        await self.m.log.forwarded(call, forward.number, forward.condition.value, str(forward.destination))

    async def _refuse(self, refusal: Refusal) -> None:
        cause = None
        if self.answered:  # a menu or a queue answered: no SIP code can tell the caller, a tone does
            cause = await self._tone_then_hang_up(refusal)
        else:
            with contextlib.suppress(ChannelGone):
                await self.client.hangup(self.caller_id, refusal.reason)
        await self._end_leg(self.caller_id, refusal.disposition.value, cause)
        sip_code = None if self.answered else refusal.sip_code
        await self.m.log.finish(await self._records(), refusal.disposition, sip_code)

    async def _tone_then_hang_up(self, refusal: Refusal) -> int | None:
        """Busy (or congestion) tone to an answered caller for a few seconds, then hang up; the
        hangup cause when the caller left first. The `hangup` destination hangs up at once."""
        if refusal.disposition is not Disposition.DECLINED:
            await self._stop_hold()
            tone = (
                "tone:busy"
                if refusal.disposition in (Disposition.BUSY, Disposition.BLOCKED)
                else "tone:congestion"
            )
            with contextlib.suppress(AriError):
                await self.client.play(self.caller_id, tone)
                loop = asyncio.get_running_loop()
                deadline = loop.time() + REFUSAL_TONE_SECONDS
                while (event := await self.next_event(deadline - loop.time())) is not None:
                    if (event.get("channel") or {}).get("id") == self.caller_id and event["type"] in _GONE:
                        return await self._cause_of(self.caller_id, event)
        await self._hangup_quietly(self.caller_id)
        return None

    def _target(self, target: DialExtension | DialExternal) -> _Target:
        """How to reach one number: dial string, the endpoint recorded on its leg, the caller ID shown."""
        if isinstance(target, DialExternal):  # numbers and hosts are validated: nothing here can inject
            trunk, via = target.trunk, f"PJSIP/{trunk_endpoint_id(target.trunk.name)}"
            return _Target(
                target.number,
                f"{via}/sip:{target.number}@{sip_host(trunk.host)}:{trunk.port}",
                f"{via}/{target.number}",
                f'"{_display_name(self.caller_name or self.caller_number)}" <{target.caller_id}>',
            )
        endpoint = f"PJSIP/{target.number}"
        return _Target(
            target.number,
            endpoint,
            endpoint,
            f'"{self.caller_name or self.caller_number}" <{self.caller_number}>',
        )

    def _ring_seconds(self, target: DialExtension | DialExternal) -> int:
        own = target.ring_seconds if isinstance(target, DialExtension) else None
        return own or self.m.settings.ring_timeout

    async def _ring_group(self, plan: RingGroup) -> Refusal | None:
        """Ring a group's steps within its timeout. None when the call is over (answered or cancelled)."""
        await self.m.group_started(plan)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + plan.timeout
        outcomes: list[Refusal] = []
        for step in plan.steps:
            remaining = deadline - loop.time()
            if remaining < 0.5:  # too little left to ring anyone usefully
                break
            targets = [self._target(DialExtension(number)) for number in step.numbers]
            outcome = await self._ring(targets, min(step.seconds, remaining))
            if outcome is None:
                return None
            outcomes.append(outcome)
        return combined_outcome(outcomes)

    async def _ring(self, targets: list[_Target], ring_seconds: float) -> Refusal | None:
        """Ring these numbers together; the first to answer is bridged with the caller.

        Returns how the ringing ended when nobody answered, or None when the call is over.
        """
        ringing: dict[str, _Target] = {}
        outcomes: list[Refusal] = []
        for target in targets:
            callee = f"{CHANNEL_PREFIX}{uuid.uuid4()}"
            self.dialled_ids.append(callee)
            self.m._own(callee, self)
            try:
                await self.client.originate(
                    target.endpoint,
                    callee,
                    f"dialed,{self.live.call_id}",
                    target.caller_id,
                    math.ceil(ring_seconds) + 5,  # Asterisk's own limit: ours comes first
                    self.caller_id,
                )
            except AriError as exc:
                logger.warning("call %s: could not dial %s: %s", self.live.call_id, target.number, exc)
                self._add_leg(callee, "callee", target.leg_endpoint)
                await self._end_leg(callee, Disposition.UNAVAILABLE.value, None)
                outcomes.append(REFUSALS[Disposition.UNAVAILABLE])
                self._unanswered(target.number, None)
                continue
            self._add_leg(callee, "callee", target.leg_endpoint)
            ringing[callee] = target
            self._publish_in_order(functools.partial(self._ringing, callee))
        self.live.channels = self.channels()
        if not ringing:
            return combined_outcome(outcomes)
        if self._ringing_caller is None:
            # 180 to the caller; not awaited here, so a quick answer of the callee is not held up by it
            self._ringing_caller = asyncio.ensure_future(self._ring_caller())
        self.live.state = "ringing"
        self._ringing_now = ringing  # the same dict: what rings now, for cancel and fail-safe
        deadline = asyncio.get_running_loop().time() + ring_seconds
        while ringing:
            remaining = deadline - asyncio.get_running_loop().time()
            event = await self.next_event(max(remaining, 0))
            if event is None:  # rang long enough
                for callee, target in list(ringing.items()):
                    await self._stop_ringing(callee, Disposition.NO_ANSWER, 19)
                    self._unanswered(target.number, None)
                return REFUSALS[Disposition.NO_ANSWER]
            chan = (event.get("channel") or {}).get("id")
            kind = event["type"]
            if chan == self.caller_id and kind in _GONE:
                await self._cancelled(event.get("cause"))
                return None
            if kind == "PlaybackFinished":
                await self._playback_finished(event)
            if chan in ringing and kind == "StasisStart":
                answered = ringing.pop(chan)
                for other in list(ringing):  # the others stop ringing
                    await self._stop_ringing(other, Disposition.ANSWERED_ELSEWHERE, 26)
                await self._ringing_caller
                try:
                    await self._connect_caller()  # first: the 200 OK the caller waits for
                except ChannelGone:  # the caller hung up just as the callee answered
                    ringing[chan] = answered  # so that it is hung up with the rest
                    await self._cancelled(None)
                    return None
                self.callee_id, self.answered_number = chan, answered.number
                if self.on_answer is not None:
                    self.on_answer(answered.number)
                await self._bridge(chan, answered.number)
                return None
            if chan in ringing and kind in ("ChannelDestroyed", "ChannelHangupRequest"):
                target = ringing.pop(chan)
                outcome = outcome_of_unanswered_leg(event.get("cause"))
                await self._end_leg(chan, outcome.disposition.value, event.get("cause"))
                outcomes.append(outcome)
                self._unanswered(target.number, event.get("cause"))
        return combined_outcome(outcomes)

    def _unanswered(self, number: str, cause: int | None) -> None:
        if self.on_unanswered is not None:
            self.on_unanswered(number, cause)

    # -- what an answered caller hears while nobody talks to them -------------------------------------
    async def _answer_caller(self) -> None:
        if not self.answered:
            await self.client.answer(self.caller_id)
            self.answered = True

    async def _connect_caller(self) -> None:
        """A callee answered: answer the caller, or stop what the answered caller hears while waiting."""
        if not self.answered:
            await self._answer_caller()
            return
        with contextlib.suppress(AriError):  # the ringback tone played to an answered caller
            await self.client.ring_stop(self.caller_id)
        await self._stop_hold()

    async def _hold(self, music: str) -> None:
        try:
            await self.client.start_moh(self.caller_id, music)
            self.holding = music
        except ChannelGone:
            raise
        except AriError:  # silence is better than losing the caller
            logger.exception("call %s: no music on hold (class %s)", self.live.call_id, music)

    async def _stop_hold(self) -> None:
        """Stop the music on hold and any announcement."""
        if self.playback is not None:
            with contextlib.suppress(AriError):
                await self.client.stop_playback(self.playback)
            self.playback = None
        if self.holding is not None:
            with contextlib.suppress(AriError):
                await self.client.stop_moh(self.caller_id)
            self.holding = None
            self._ringing_caller = None  # whoever is rung next (an overflow), the caller hears ringback

    async def _play(self, media: str | list[str]) -> str:
        """Play to the caller; returns the playback's id (its PlaybackFinished event carries it)."""
        playback = f"{PLAYBACK_PREFIX}{uuid.uuid4()}"
        await self.client.play(self.caller_id, media, playback)
        self.playback = playback
        return playback

    async def _playback_finished(self, event: Event) -> None:
        """A waiting caller's announcement ended: the music on hold goes on."""
        if (event.get("playback") or {}).get("id") != self.playback:
            return
        self.playback = None
        if self.holding is not None:
            with contextlib.suppress(AriError):
                await self.client.start_moh(self.caller_id, self.holding)

    # -- IVR menus --------------------------------------------------------------------------------
    async def _ivr(self, name: str) -> Decision | None:
        """Play the menu until the caller chooses; the decision for their choice (None: they hung up)."""
        menu = await self.m.ivr(name)
        if menu is None:  # removed since it was configured
            return REFUSALS[Disposition.UNAVAILABLE]
        await self._answer_caller()
        self.live.state = "ivr"
        if self.live.answered_at is None:
            self.live.answered_at = datetime.now(UTC)
        numbers = [n for n, info in self.m.directory.items() if info.enabled]
        plays = repeats = 0
        while plays < menu.attempts:
            plays += 1
            step, digits = await self._menu_choice(menu, numbers)
            if step is None:
                await self._cancelled(None)
                return None
            if step.input is Input.REPEAT and repeats < 10:  # a caller can't keep the menu forever
                plays, repeats = plays - 1, repeats + 1
            elif step.input is Input.CHOSEN and step.destination is not None:
                return await self._menu_destination(f"ivr:{name} {digits}", step.destination)
            elif step.input is Input.INVALID:  # "not a valid option" / "not a valid extension"
                await self.client.play(
                    self.caller_id, NO_SUCH_NUMBER_PROMPT if len(digits) > 1 else INVALID_PROMPT
                )
        return await self._menu_destination(f"ivr:{name} no choice", menu.fallback)

    async def _menu_destination(self, reason: str, destination: Destination) -> Decision:
        self._publish_in_order(functools.partial(self._rerouted, Rerouted(reason, destination)))
        target = destination_target(destination)
        return target if isinstance(target, Refusal) else await self._decide(target)

    async def _menu_choice(self, menu: IvrInfo, numbers: list[str]) -> tuple[MenuStep | None, str]:
        """Play the menu once and collect the caller's keys: (their choice, the keys), or (None, "")
        when the caller hung up. Pressing a key cuts the prompt short."""
        loop = asyncio.get_running_loop()
        playback = await self._play(menu.prompt)
        digits, choice_deadline = "", loop.time() + PROMPT_LIMIT
        while True:
            waiting = DIGIT_WAIT if digits else max(choice_deadline - loop.time(), 0)
            event = await self.next_event(waiting)
            if event is None:
                if digits:
                    return digits_complete(menu, digits, numbers), digits
                if self.playback is None:
                    return MenuStep(Input.NOTHING), ""
                self.playback, choice_deadline = None, loop.time() + menu.timeout  # no end reported
                continue
            kind, chan = event["type"], (event.get("channel") or {}).get("id")
            if chan == self.caller_id and kind in _GONE:
                return None, ""
            if kind == "PlaybackFinished" and (event.get("playback") or {}).get("id") == playback:
                self.playback, choice_deadline = None, loop.time() + menu.timeout
                if (event.get("playback") or {}).get("state") == "failed":  # e.g. a missing sound file
                    logger.warning("IVR %s: its prompt %s could not be played", menu.name, menu.prompt)
            elif kind == "ChannelDtmfReceived" and chan == self.caller_id:
                if self.playback is not None:
                    await self._stop_hold()
                digits += str(event.get("digit", ""))
                step = pressed(menu, digits, numbers)
                if step.input is not Input.MORE:
                    return step, digits

    # -- queues -----------------------------------------------------------------------------------
    def _wake(self) -> None:
        self.queue.put_nowait({"type": "QueueWake"})

    async def _queue(self, name: str) -> Decision | None:
        """Wait in the queue, offered to agents as they are free, until one answers (None: the call is
        over) or the caller overflows (a Forward to the overflow destination)."""
        board = self.m.queues
        runtime = await board.open(name)
        if runtime is None:  # removed since it was configured
            return REFUSALS[Disposition.UNAVAILABLE]
        info = runtime.info
        self.recording_policies.append(info.recording)
        if not runtime.has_agents_logged_in():
            return self._overflow(info, ForwardCondition.UNAVAILABLE, Disposition.UNAVAILABLE)
        await self._answer_caller()
        await self._hold(info.music)
        self.live.state = "queued"
        waiter = board.join(runtime, self.live.call_id, self.caller_number, self._wake)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + info.max_wait
        announce_at = loop.time() + info.announce_every if info.announce_every else math.inf
        try:
            while True:
                info, now = runtime.info, loop.time()
                if now >= deadline:
                    board.leave(runtime, waiter, "timeout")
                    return self._overflow(info, ForwardCondition.NO_ANSWER, Disposition.NO_ANSWER)
                if not runtime.has_agents_logged_in():
                    board.leave(runtime, waiter, "no_agents")
                    return self._overflow(info, ForwardCondition.UNAVAILABLE, Disposition.UNAVAILABLE)
                agents = board.offer(runtime, waiter)
                if agents:
                    if not await self._offer(runtime, waiter, agents, deadline - now):
                        return None
                    continue
                if now >= announce_at:
                    if self.playback is None:  # else the last one still plays: skip this one
                        with contextlib.suppress(AriError):  # the caller may have just left: seen next
                            await self._announce(runtime, waiter)
                    announce_at = now + info.announce_every
                event = await self.next_event(min(deadline, announce_at, now + QUEUE_LOOK_AGAIN) - now)
                if event is None:
                    continue
                if (event.get("channel") or {}).get("id") == self.caller_id and event["type"] in _GONE:
                    board.leave(runtime, waiter, "abandoned")
                    await self._cancelled(event.get("cause"))
                    return None
                if event["type"] == "PlaybackFinished":
                    await self._playback_finished(event)
        finally:
            board.leave(runtime, waiter, "abandoned")  # only if still waiting (a failure)
            if self.callee_id is None:
                await self._stop_hold()

    def _overflow(self, info: QueueInfo, condition: ForwardCondition, outcome: Disposition) -> Forward:
        return Forward(f"queue:{info.name}", condition, info.overflow, REFUSALS[outcome])

    async def _announce(self, runtime: QueueRuntime, waiter: Waiter) -> None:
        """Tell a waiting caller their position (and the expected wait), then back to the music."""
        media = announcement(runtime.position(waiter), runtime.expected_wait(waiter))
        if self.holding is not None:
            with contextlib.suppress(AriError):
                await self.client.stop_moh(self.caller_id)
        await self._play(media)

    async def _offer(self, runtime: QueueRuntime, waiter: Waiter, agents: list[str], left: float) -> bool:
        """Ring these agents for the caller. False when the call is over (answered and ended, or the
        caller hung up); True when nobody answered and the caller waits on."""
        board, info = self.m.queues, runtime.info
        targets: list[_Target] = []
        for number in agents:
            agent = info.agent(number)
            if agent is not None and agent.remote:
                dial = decide_forward_external(number, await self._trunk())
                if isinstance(dial, Refusal):  # no trunk to reach the remote agent now
                    board.unanswered(runtime, number, None)
                    continue
                targets.append(self._target(dial))
            else:
                targets.append(self._target(DialExtension(number)))
        timeouts = [a.timeout or info.agent_timeout for n in agents if (a := info.agent(n)) is not None]
        seconds = min(max(timeouts, default=info.agent_timeout), max(left, 1))
        self.on_answer = functools.partial(board.answered, runtime, waiter)
        self.on_unanswered = functools.partial(board.unanswered, runtime)
        answered = None
        try:
            outcome = await self._ring(targets, seconds) if targets else REFUSALS[Disposition.UNAVAILABLE]
        finally:
            self.on_answer = self.on_unanswered = None
            if self.answered_number is not None:  # the call with the agent is over (or failed): wrap-up
                talk = (datetime.now(UTC) - (self.live.answered_at or datetime.now(UTC))).total_seconds()
                answered, self.answered_number = self.answered_number, None
                board.finished(runtime, answered, talk)
        if outcome is not None:
            board.release(runtime, waiter)
            return True
        if answered is None:  # the caller hung up while agents rang
            board.leave(runtime, waiter, "abandoned")
        return False

    async def _stop_ringing(self, callee: str, disposition: Disposition, cause: int) -> None:
        await self._hangup_quietly(callee)
        await self._end_leg(callee, disposition.value, cause)
        self._ringing_now.pop(callee, None)

    async def _voicemail(self, mailbox: str) -> None:
        """Answer, play the greeting, and record the caller's message until they hang up (or press #)."""
        name = f"vm-{self.live.call_id}"
        await self._answer_caller()
        self.live.state, self.live.answered_at = "voicemail", datetime.now(UTC)
        # ARI runs a channel's operations in order: the recording starts when the greeting ends
        await self.client.play(self.caller_id, "sound:vm-intro")
        await self.client.record_channel(
            self.caller_id, name, self.m.recording_format, VOICEMAIL_MAX_SECONDS, VOICEMAIL_MAX_SILENCE
        )
        while True:
            event = await self.queue.get()
            if (event.get("channel") or {}).get("id") == self.caller_id and event["type"] in _GONE:
                break
        await self._end_leg(self.caller_id, Disposition.VOICEMAIL.value, event.get("cause"))
        call = await self._records()
        await self.m.log.finish(call, Disposition.VOICEMAIL)
        await self.m.voicemail_done(call, mailbox, self.caller_number, name)

    async def _ringing(self, callee: str) -> None:
        await self.m.log.ringing(await self._opened(), await self.legs[callee])

    async def _cancelled(self, cause: int | None) -> None:
        """The caller hung up before the call was answered."""
        for callee in list(self._ringing_now):
            await self._hangup_quietly(callee)
            await self._end_leg(callee, Disposition.CANCELLED.value, None)
        self._ringing_now = {}
        await self._end_leg(self.caller_id, Disposition.CANCELLED.value, cause)
        await self.m.log.finish(await self._records(), Disposition.CANCELLED)

    def _recording_policy(self, answered_by: str) -> RecordingPolicy:
        """The strongest policy of everything the call touched: route, groups, caller and callee numbers."""
        numbers = (self.m.directory.get(answered_by), self.m.directory.get(self.caller_number))
        return recording_policy([*self.recording_policies, *(info.recording for info in numbers if info)])

    async def start_recording(self) -> str:
        """Record the bridged call (idempotent); returns the recording's name."""
        if self.bridge_id is None or self.live.state != "up":
            raise CallNotUp(f"call {self.live.call_id} is not answered")
        if self.recording_name is None:
            name = f"{self.live.call_id}"
            await self.client.record_bridge(self.bridge_id, name, self.m.recording_format)
            self.recording_name = name
        return self.recording_name

    async def stop_recording(self) -> None:
        """Stop recording now (the file is indexed when the call ends)."""
        if self.recording_name is not None:
            with contextlib.suppress(ChannelGone):
                await self.client.stop_recording(self.recording_name)

    async def _bridge(self, callee: str, answered_by: str) -> None:
        """Both sides are answered: bridge them and stay until one hangs up."""
        self.bridge_id = f"{BRIDGE_PREFIX}{self.live.call_id}"
        await self.client.create_bridge(self.bridge_id)
        left: Event | None = None
        try:
            await self.client.add_to_bridge(self.bridge_id, [self.caller_id, callee])
        except AriError:
            # one side hung up in the instant between the answer and the bridge: the caller had its
            # 200 OK, so the call was answered, and ended by whoever left
            left = await self._leaving((self.caller_id, callee))
            if left is None:
                raise
        self.policy = self._recording_policy(answered_by)
        self.live.state, self.live.answered_at = "up", datetime.now(UTC)
        self.m.queues.refresh()  # the callee (and an internal caller) are now busy for queues
        if self.policy is RecordingPolicy.ALWAYS and left is None:
            try:
                await self.start_recording()
            except AriError:  # the call goes on; losing a recording must not lose the call
                logger.exception("call %s: could not start recording", self.live.call_id)
        await self.m.log.answered(
            await self._records(),
            [await self.legs[self.caller_id], await self.legs[callee]],
            await self.legs[callee],
            at=self.live.answered_at,
        )
        await self.talk(callee, left)

    async def talk(self, callee: str, left: Event | None = None) -> None:
        """The bridged call goes on until one side hangs up (`left`, if it already has): then the other
        is hung up, the bridge (and its recording) ends and the records are closed."""
        event = left
        while event is None:
            candidate = await self.queue.get()
            chan = (candidate.get("channel") or {}).get("id")
            if chan in (self.caller_id, callee) and candidate["type"] in _GONE:
                event = candidate
        chan = str((event.get("channel") or {}).get("id"))
        other = callee if chan == self.caller_id else self.caller_id
        await self._hangup_quietly(other)
        await self._end_leg(chan, Disposition.ANSWERED.value, await self._cause_of(chan, event))
        await self._end_leg(other, Disposition.ANSWERED.value, 16)
        await self._destroy_bridge()  # ends the recording too
        call = await self._records()
        await self.m.log.finish(call, Disposition.ANSWERED)
        if self.recording_name:
            await self.m.recording_done(call, self.recording_name)

    async def _leaving(self, channels: tuple[str, ...], wait: float = 1.0) -> Event | None:
        """The event of the first of `channels` to leave within `wait` seconds, if any does."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while (event := await self.next_event(deadline - loop.time())) is not None:
            if (event.get("channel") or {}).get("id") in channels and event["type"] in _GONE:
                return event
        return None

    # -- helpers --------------------------------------------------------------------------------
    async def _cause_of(self, channel_id: str, event: Event, wait: float = 1.0) -> int | None:
        """The hangup cause of a leaving channel: StasisEnd has none, its ChannelDestroyed follows."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while "cause" not in event:
            next_event = await self.next_event(max(deadline - loop.time(), 0))
            if next_event is None:
                return None
            if next_event["type"] in ("ChannelDestroyed", "ChannelHangupRequest") and (
                (next_event.get("channel") or {}).get("id") == channel_id
            ):
                event = next_event
        return event.get("cause")

    async def _ring_caller(self) -> None:
        if self.holding is not None:  # a queue caller keeps the music until an agent answers
            return
        with contextlib.suppress(AriError):  # a caller who already left needs no ringing
            await self.client.ring(self.caller_id)

    async def _hangup_quietly(self, channel_id: str | None, reason: str = "normal") -> None:
        if not channel_id:
            return
        with contextlib.suppress(AriError):  # already gone, or Asterisk away: nothing left to hang up
            await self.client.hangup(channel_id, reason)

    async def _destroy_bridge(self) -> None:
        if self.bridge_id:
            with contextlib.suppress(AriError):
                await self.client.destroy_bridge(self.bridge_id)

    async def _end_leg(self, channel_id: str | None, disposition: str, cause: int | None) -> None:
        leg = self.legs.get(channel_id or "")
        if leg:
            await self.m.log.end_leg(await leg, disposition, cause)

    async def _fail_safe(self) -> None:
        """After an error: nobody is left hanging, and the record says the PBX failed."""
        answered = self.live.state == "up"
        await self._hangup_quietly(self.caller_id, "normal" if answered else "congestion")
        for callee in [self.callee_id, *self._ringing_now]:
            await self._hangup_quietly(callee)
        await self._destroy_bridge()
        try:
            pending = [f for f in (self._opening, self._published, *self.legs.values()) if f is not None]
            if pending:
                await asyncio.wait(pending)  # a failed write leaves self.call unset
            self.legs = {k: f for k, f in self.legs.items() if not f.exception()}
            for channel_id in self.channels():
                await self._end_leg(channel_id, Disposition.FAILED.value, None)
            if self.call:
                await self.m.log.finish(self.call, Disposition.FAILED, None if answered else 503)
        except Exception:
            logger.exception("could not close the record of a failed call")


def _done(value: T) -> asyncio.Future[T]:
    """An already written record, where a flow expects one being written."""
    future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
    future.set_result(value)
    return future


def _display_name(name: str) -> str:
    """A caller's name as it can be put between the quotes of a caller ID."""
    return "".join(c for c in name if c not in '"<>\\')[:40]


async def _no_lists() -> CallerLists:
    return CallerLists()


async def _ignore_hit(pattern: str) -> None:
    return None


async def _no_group(name: str) -> GroupInfo | None:
    return None


async def _ignore_group_start(plan: RingGroup) -> None:
    return None


async def _ignore_recording(call: Call, name: str) -> None:
    return None


async def _ignore_voicemail(call: Call, mailbox: str, caller: str, name: str) -> None:
    return None


async def _no_schedule(name: str) -> ScheduleInfo | None:
    return None


async def _no_ivr(name: str) -> IvrInfo | None:
    return None


async def _no_queue(name: str) -> QueueInfo | None:
    return None


async def _no_owner(number: str) -> str | None:
    return None


async def _ignore_event(event: DomainEvent) -> None:
    return None


class CallNotUp(DomainError):
    """The call is not (or no longer) answered."""


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
        }
    )

    def __init__(
        self,
        log: CallLog,
        settings: CallSettings,
        app: str = "pbx",
        decide: Callable[[str, str, ExtensionInfo | None, bool], Any] = decide_internal,
        caller_lists: Callable[[], Awaitable[CallerLists]] | None = None,
        blacklist_hit: Callable[[str], Awaitable[None]] | None = None,
        group: Callable[[str], Awaitable[GroupInfo | None]] | None = None,
        group_started: Callable[[RingGroup], Awaitable[None]] | None = None,
        recording_done: Callable[[Call, str], Awaitable[object]] | None = None,
        voicemail_done: Callable[[Call, str, str, str], Awaitable[object]] | None = None,
        schedule: Callable[[str], Awaitable[ScheduleInfo | None]] | None = None,
        recording_format: str = "wav",
        ivr: Callable[[str], Awaitable[IvrInfo | None]] | None = None,
        queue: Callable[[str], Awaitable[QueueInfo | None]] | None = None,
        number_owner: Callable[[str], Awaitable[str | None]] | None = None,
        publish: Callable[[DomainEvent], Awaitable[object]] | None = None,
    ) -> None:
        self.log = log
        self.settings = settings
        self.app = app
        self.caller_lists = caller_lists or _no_lists
        self.blacklist_hit = blacklist_hit or _ignore_hit
        self.group = group or _no_group
        self.group_started = group_started or _ignore_group_start
        self.recording_done = recording_done or _ignore_recording
        self.voicemail_done = voicemail_done or _ignore_voicemail
        self.schedule = schedule or _no_schedule
        self.recording_format = recording_format
        self.ivr = ivr or _no_ivr
        self.number_owner = number_owner or _no_owner  # "ivr:main" / "queue:support" for their numbers
        self.queues = QueueBoard(queue or _no_queue, self._online, self._in_calls, publish or _ignore_event)
        self.decide = decide
        self.client: AriClient | None = None
        self.live: dict[str, LiveCall] = {}
        # In-memory views read on every call, so routing waits on neither the database nor ARI:
        self.directory: dict[str, ExtensionInfo] = {}  # internal numbers, kept in step by events
        self.endpoints: dict[str, str] = {}  # PJSIP endpoint → "online" | "offline", from ARI
        self._flows: dict[str, _CallFlow] = {}  # channel id → flow
        self._recent_events: collections.deque[tuple[Any, ...]] = collections.deque(maxlen=64)
        self._tasks: set[asyncio.Task[None]] = set()
        self._stasis_dispatch: dict[str, Callable[[Event, list[str]], Awaitable[None] | None]] = {
            "internal": self._start_internal,
            "inbound": self._start_inbound,
            "dialed": self._route_dialed,
        }

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
                if self.endpoints.get(resource) != state:  # most of these are calls coming and going
                    self.endpoints[resource] = state
                    self.queues.refresh()
            return
        if event.get("type") == "PlaybackFinished":  # addressed by its target, "channel:<id>"
            target = str((event.get("playback") or {}).get("target_uri", ""))
            channel_id = target.removeprefix("channel:") if target.startswith("channel:") else None
        if event.get("type") == "StasisStart":
            args = [str(a) for a in event.get("args") or []]
            handler = self._stasis_dispatch.get(args[0] if args else "", self._start_unknown)
            handler(event, args[1:])
            return
        flow = self._flows.get(channel_id or "")
        if flow is not None:
            flow.queue.put_nowait(event)

    def _seen_before(self, event: Event) -> bool:
        """Asterisk sends a channel's events once for our app and once more for the endpoint
        subscription (registrations): a key pressed must count once. Events are told apart by type,
        timestamp (microseconds), channel or playback, and key."""
        if event.get("type") not in ("ChannelDtmfReceived", "PlaybackFinished"):
            return False  # the others are idempotent for the flows
        key = (
            event.get("type"),
            event.get("timestamp"),
            (event.get("channel") or event.get("playback") or {}).get("id"),
            event.get("digit"),
        )
        if key in self._recent_events:
            return True
        self._recent_events.append(key)
        return False

    def _start_internal(self, event: Event, args: list[str]) -> None:
        self._start(event, args[0] if args else "", inbound=False)

    def _start_inbound(self, event: Event, args: list[str]) -> None:
        self._start(event, args[0] if args else "", inbound=True)

    def _start(self, event: Event, dialled: str, inbound: bool) -> None:
        flow = _CallFlow(self, event["channel"], dialled, inbound)
        self._own(flow.caller_id, flow)
        self._spawn(flow.run(), f"call-{flow.caller_id}")

    def _route_dialed(self, event: Event, args: list[str]) -> None:
        flow = self._flows.get(event["channel"]["id"])
        if flow is not None:
            flow.queue.put_nowait(event)
        else:  # a leg whose call is gone (e.g. the daemon restarted): nobody wants it
            self._spawn(self._hangup_orphan(event["channel"]["id"]), "orphan")

    def _start_unknown(self, event: Event, args: list[str]) -> None:
        logger.warning("StasisStart with unknown args %r; hanging up", event.get("args"))
        self._spawn(self._hangup_orphan(event["channel"]["id"], "congestion"), "unknown")

    async def _hangup_orphan(self, channel_id: str, reason: str = "normal") -> None:
        if self.client:
            with contextlib.suppress(AriError):
                await self.client.hangup(channel_id, reason)

    def _spawn(self, coro: Awaitable[None], name: str) -> None:
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _own(self, channel_id: str, flow: _CallFlow) -> None:
        self._flows[channel_id] = flow

    def flow_of_channel(self, channel_id: str) -> _CallFlow | None:
        """The flow that owns a channel, if any."""
        return self._flows.get(channel_id)

    def resume_bridged(self, bridged: Bridged, caller_channel: Event) -> _CallFlow:
        """Own a call a previous daemon left bridged, and follow it until it ends."""
        flow = _CallFlow.adopted(self, bridged, caller_channel)
        for channel_id in flow.channels():
            self._own(channel_id, flow)
        self.live[flow.live.call_id] = flow.live
        self._spawn(flow.run_adopted(), f"adopted-{flow.caller_id}")
        return flow

    def _forget(self, flow: _CallFlow) -> None:
        for channel_id in flow.channels():
            if self._flows.get(channel_id) is flow:
                del self._flows[channel_id]
        if flow.live:
            self.live.pop(flow.live.call_id, None)
        self.queues.refresh()  # its numbers may be free for queue calls again

    def _online(self, number: str) -> bool:
        return self.endpoints.get(number) == "online"

    def _in_calls(self) -> set[str]:
        """The internal (and remote agents') numbers on a call now: answered, or calling out."""
        numbers = set()
        for flow in set(self._flows.values()):
            if flow.answered_number is not None and flow.live.state == "up":
                numbers.add(flow.answered_number)
            if not flow.inbound:
                numbers.add(flow.caller_number)
        return numbers

    # -- actions on live calls -------------------------------------------------------------------
    def _flow_of(self, call_id: str) -> _CallFlow:
        for flow in set(self._flows.values()):
            if flow.live.call_id == call_id:
                return flow
        raise NotFound(f"no call {call_id} in progress")

    async def start_recording(self, call_id: str) -> str:
        """Record a call in progress, where its recording policy allows it (on demand or always)."""
        flow = self._flow_of(call_id)
        if flow.policy is RecordingPolicy.NEVER:
            raise PermissionDenied(f"call {call_id} may not be recorded: its recording policy is never")
        return await flow.start_recording()

    async def stop_recording(self, call_id: str) -> None:
        """Stop recording a call in progress."""
        await self._flow_of(call_id).stop_recording()

    # -- connection lifecycle -------------------------------------------------------------------
    async def load_directory(self) -> None:
        """Read the internal numbers and queues routing needs (at start; events keep them current)."""
        await self.queues.open_all([q.name for q in await Queue.all().order_by("name")])
        self.directory = {}
        for e in await Extension.all().prefetch_related("forwarding"):
            rules = {
                r.condition: {"destination": r.destination, "ring_seconds": r.ring_seconds}
                for r in e.forwarding
            }
            self.directory[e.number] = ExtensionInfo(
                e.number,
                e.name,
                e.enabled,
                e.dnd,
                forward_rules(rules),
                OutboundPermission(e.outbound),
                e.external_caller_id,
                e.recording,
            )

    def on_domain_event(self, event: DomainEvent) -> None:
        """Keep the directory in step with changes to internal numbers and their forwarding."""
        known = self.directory.get(getattr(event, "number", ""))
        if isinstance(event, ExtensionAdded | ExtensionUpdated):
            self.directory[event.number] = ExtensionInfo(
                event.number,
                event.name,
                event.enabled,
                event.dnd,
                known.forwarding if known else {},
                OutboundPermission(event.outbound),
                event.external_caller_id,
                event.recording,
            )
        elif isinstance(event, ExtensionRemoved):
            self.directory.pop(event.number, None)
        elif isinstance(event, ForwardingChanged) and known:
            self.directory[event.number] = replace(known, forwarding=forward_rules(event.rules))
        elif isinstance(event, QueueChanged | QueueAgentLoggedIn | QueueAgentLoggedOut | QueueAgentPaused):
            self.queues.reload(event.queue)

    async def resync(self, client: AriClient) -> None:
        """After a (re)connect: refresh registrations, and tell flows about channels that vanished."""
        with contextlib.suppress(AriError):  # refused while no PJSIP endpoint exists; provisioning retries
            await client.subscribe(ENDPOINT_EVENTS)
        self.endpoints = {
            e["resource"]: e.get("state", "unknown") for e in await client.list_endpoints("PJSIP")
        }
        self.client = client
        channels = await client.list_channels()
        existing = {c["id"] for c in channels}
        for channel_id, flow in list(self._flows.items()):
            if channel_id not in existing:
                flow.queue.put_nowait(
                    {"type": "ChannelDestroyed", "channel": {"id": channel_id}, "cause": 16, "resync": True}
                )
        await self._clear_orphans(client, channels)

    def _is_ours(self, channel: Event) -> bool:
        dialplan = channel.get("dialplan") or {}
        in_our_app = (
            dialplan.get("app_name") == "Stasis"
            and str(dialplan.get("app_data", "")).split(",")[0] == self.app
        )
        return in_our_app or channel["id"].startswith(CHANNEL_PREFIX)

    async def _clear_orphans(self, client: AriClient, channels: list[Event]) -> None:
        """Calls in our app that no flow owns (the daemon restarted mid-call): answered, bridged ones are
        taken over (adoption.py); the others can't be resumed and are ended, their records closed. A
        caller left in silence is worse."""
        live = {str(c["id"]): c for c in channels}
        owned_bridges = {flow.bridge_id for flow in self._flows.values()}
        unowned = [b for b in await client.list_bridges() if b["id"] not in owned_bridges]
        found, stale = await bridged_calls(unowned, set(live) - set(self._flows), BRIDGE_PREFIX)
        await adopt(self, client, found, live)
        orphans = [c for c in channels if c["id"] not in self._flows and self._is_ours(c)]
        for channel in orphans:
            with contextlib.suppress(AriError):
                await client.hangup(channel["id"], "normal" if channel.get("state") == "Up" else "congestion")
        for bridge_id in stale:
            with contextlib.suppress(AriError):
                await client.destroy_bridge(bridge_id)
        closed = await self.log.close_interrupted(in_progress=self.live)
        if orphans or stale or closed:
            logger.warning(
                "ended %d orphaned channels and %d bridges left by a previous run; closed %d call records",
                len(orphans),
                len(stale),
                closed,
            )

    def detach(self) -> None:
        """ARI went away; flows keep their state until resync."""
        self.client = None

    async def close(self) -> None:
        """Stop all flows (daemon shutdown); their records are closed as interrupted at next start."""
        self.queues.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
