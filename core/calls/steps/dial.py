"""Ringing: one number, several at once, or a group step by step; the first to answer is bridged."""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from core.ari.client import AriError, ChannelGone
from core.calls.flow import CHANNEL_PREFIX, CallFlow, Event, Target, channel_of
from core.calls.media import connect_caller, playback_finished, refuse, ring_caller
from core.calls.pickup import PICKUP_REQUEST
from core.calls.steps.bridge import bridge
from core.routing import (
    REFUSALS,
    DialExtension,
    DialExternal,
    Disposition,
    Refusal,
    RingGroup,
    combined_outcome,
    outcome_of_unanswered_leg,
)
from core.services.provisioning import sip_host, trunk_endpoint_id

if TYPE_CHECKING:
    from core.models import Call
logger = logging.getLogger(__name__)


def target(flow: CallFlow, dial: DialExtension | DialExternal) -> Target:
    """How to reach one number: dial string, the endpoint recorded on its leg, the caller ID shown."""
    if isinstance(dial, DialExternal):  # numbers and hosts are validated: nothing here can inject
        trunk, via = dial.trunk, f"PJSIP/{trunk_endpoint_id(dial.trunk.name)}"
        return Target(
            dial.number,
            f"{via}/sip:{dial.number}@{sip_host(trunk.host)}:{trunk.port}",
            f"{via}/{dial.number}",
            f'"{display_name(flow.caller_name or flow.caller_number)}" <{dial.caller_id}>',
        )
    endpoint = f"PJSIP/{dial.number}"
    return Target(
        dial.number, endpoint, endpoint, f'"{flow.caller_name or flow.caller_number}" <{flow.caller_number}>'
    )


def display_name(name: str) -> str:
    """A caller's name as it can be put between the quotes of a caller ID."""
    return "".join(c for c in name if c not in '"<>\\')[:40]


def ring_seconds(flow: CallFlow, dial: DialExtension | DialExternal) -> int:
    own = dial.ring_seconds if isinstance(dial, DialExtension) else None
    return own or flow.deps.settings.ring_timeout


async def dial(flow: CallFlow, number: DialExtension | DialExternal) -> Refusal | None:
    """Ring one number for its ring time. None when the call is over (answered or cancelled)."""
    return await ring(flow, [target(flow, number)], ring_seconds(flow, number))


async def ring_group(flow: CallFlow, plan: RingGroup) -> Refusal | None:
    """Ring a group's steps within its timeout. None when the call is over (answered or cancelled)."""
    await flow.deps.reports.group_started(plan)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + plan.timeout
    outcomes: list[Refusal] = []
    for step in plan.steps:
        remaining = deadline - loop.time()
        if remaining < 0.5:  # too little left to ring anyone usefully
            break
        targets = [target(flow, DialExtension(number)) for number in step.numbers]
        outcome = await ring(flow, targets, min(step.seconds, remaining))
        if outcome is None:
            return None
        outcomes.append(outcome)
    return combined_outcome(outcomes)


async def ring(flow: CallFlow, targets: list[Target], seconds: float) -> Refusal | None:
    """Ring these numbers together; the first to answer is bridged with the caller.

    Returns how the ringing ended when nobody answered, or None when the call is over, or when an
    operator sent it elsewhere (flow.reroute, which the routing loop follows).
    """
    ringing: dict[str, Target] = {}
    outcomes: list[Refusal] = []
    for to in targets:
        callee = f"{CHANNEL_PREFIX}{uuid.uuid4()}"
        flow.own(callee)
        try:
            await flow.client.originate(
                to.endpoint,
                callee,
                f"dialed,{flow.live.call_id}",
                to.caller_id,
                math.ceil(seconds) + 5,  # Asterisk's own limit: ours comes first
                flow.caller_id,
            )
        except AriError as exc:
            logger.warning("call %s: could not dial %s: %s", flow.live.call_id, to.number, exc)
            flow.records.add_leg(callee, "callee", to.leg_endpoint)
            await flow.records.end_leg(callee, Disposition.UNAVAILABLE.value, None)
            outcomes.append(REFUSALS[Disposition.UNAVAILABLE])
            _unanswered(flow, to.number, None)
            continue
        flow.records.add_leg(callee, "callee", to.leg_endpoint)
        ringing[callee] = to
        flow.records.publish(_ringing_written(flow, callee))
    flow.live.channels = flow.channels()
    if not ringing:
        return combined_outcome(outcomes)
    if flow.ringing_caller is None:
        # 180 to the caller; not awaited here, so a quick answer of the callee is not held up by it
        flow.ringing_caller = asyncio.ensure_future(ring_caller(flow))
    flow.live.state = "ringing"
    flow.ringing_now = ringing  # the same dict: what rings now, for cancel and fail-safe
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while ringing:
        event = await flow.next_event(max(deadline - loop.time(), 0))
        if event is not None and flow.caller_left(event):
            await flow.cancelled(event.get("cause"))
            return None
        if flow.reroute is not None:  # an operator redirected the call while it rang: the loop goes on
            for callee in list(ringing):
                await flow.stop_ringing(callee, Disposition.REDIRECTED, 16)
            return None
        if event is None:  # rang long enough
            for callee, to in list(ringing.items()):
                await flow.stop_ringing(callee, Disposition.NO_ANSWER, 19)
                _unanswered(flow, to.number, None)
            return REFUSALS[Disposition.NO_ANSWER]
        chan, kind = channel_of(event), event["type"]
        if kind == "PlaybackFinished":
            await playback_finished(flow, event)
        if kind == PICKUP_REQUEST:  # a phone dialled a pickup code for this call
            await picked_up(flow, ringing, event)
            return None
        if chan in ringing and kind == "StasisStart":
            answered = ringing.pop(chan)
            for other in list(ringing):  # the others stop ringing
                await flow.stop_ringing(other, Disposition.ANSWERED_ELSEWHERE, 26)
            await flow.ringing_caller
            try:
                await connect_caller(flow)  # first: the 200 OK the caller waits for
            except ChannelGone:  # the caller hung up just as the callee answered
                ringing[chan] = answered  # so that it is hung up with the rest
                await flow.cancelled(None)
                return None
            flow.callee_id, flow.answered_number = chan, answered.number
            if flow.on_answer is not None:
                flow.on_answer(answered.number)
            await bridge(flow, chan, answered.number)
            return None
        if chan in ringing and kind in ("ChannelDestroyed", "ChannelHangupRequest"):
            to = ringing.pop(chan)
            outcome = outcome_of_unanswered_leg(event.get("cause"))
            await flow.records.end_leg(chan, outcome.disposition.value, event.get("cause"))
            outcomes.append(outcome)
            _unanswered(flow, to.number, event.get("cause"))
    return combined_outcome(outcomes)


async def picked_up(flow: CallFlow, ringing: dict[str, Target], event: Event) -> None:
    """The picking phone answers the call: what rang stops, the phone is answered and bridged."""
    channel, number = event["channel"], str(event["number"])
    chan = str(channel["id"])
    for other in list(ringing):
        await flow.stop_ringing(other, Disposition.ANSWERED_ELSEWHERE, 26)
    flow.own(chan)
    flow.records.add_leg(chan, "callee", f"PJSIP/{number}")
    event["done"].set_result(None)
    try:
        await flow.client.answer(chan)  # the picking phone gets its 200 OK
    except ChannelGone:  # it hung up at once: the call rings on nowhere, as if nobody answered
        await flow.records.end_leg(chan, Disposition.CANCELLED.value, None)
        await refuse(flow, REFUSALS[Disposition.NO_ANSWER])
        return
    if flow.ringing_caller is not None:
        await flow.ringing_caller
    try:
        await connect_caller(flow)
    except ChannelGone:  # the caller hung up just then
        await flow.hangup_quietly(chan)
        await flow.records.end_leg(chan, Disposition.CANCELLED.value, None)
        await flow.cancelled(None)
        return
    flow.callee_id, flow.answered_number = chan, number
    flow.records.publish(_picked_up_written(flow, number, chan))
    await bridge(flow, chan, number)


def _picked_up_written(flow: CallFlow, number: str, chan: str) -> Callable[[Call], Awaitable[None]]:
    async def write(call: Call) -> None:
        await flow.deps.log.picked_up(call, number, await flow.records.leg(chan))

    return write


def _ringing_written(flow: CallFlow, callee: str) -> Callable[[Call], Awaitable[None]]:
    async def write(call: Call) -> None:
        await flow.deps.log.ringing(call, await flow.records.leg(callee))

    return write


def _unanswered(flow: CallFlow, number: str, cause: int | None) -> None:
    if flow.on_unanswered is not None:
        flow.on_unanswered(number, cause)
