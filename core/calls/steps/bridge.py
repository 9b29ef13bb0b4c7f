"""An answered call: the caller and the callee bridged, recorded where the policy says, until one leaves."""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime

from core.ari.client import AriError, ChannelGone
from core.calls import attended
from core.calls.flow import BRIDGE_PREFIX, GONE, CallFlow, Event, channel_of
from core.errors import Conflict
from core.routing import Disposition, RecordingPolicy, recording_policy

logger = logging.getLogger(__name__)


class CallNotUp(Conflict):
    """The call is not (or no longer) answered, or not in the state an action needs."""


async def bridge(flow: CallFlow, callee: str, answered_by: str) -> None:
    """Both sides are answered: bridge them and stay until one hangs up (or an operator transfers one).
    A transferred call keeps its bridge, and its recording: the new callee joins the caller there."""
    transferred = flow.bridge_id is not None
    if flow.bridge_id is None:
        flow.bridge_id = f"{BRIDGE_PREFIX}{flow.live.call_id}"
        await flow.client.create_bridge(flow.bridge_id)
    left: Event | None = None
    try:
        await flow.client.add_to_bridge(flow.bridge_id, [flow.caller_id, callee])
    except AriError:
        # one side hung up in the instant between the answer and the bridge: the caller had its
        # 200 OK, so the call was answered, and ended by whoever left
        left = await flow.leaving((flow.caller_id, callee))
        if left is None:
            raise
    policy = flow.recording_policy(answered_by)  # after a transfer: the stronger of before and now
    flow.policy = recording_policy([flow.policy, policy]) if transferred else policy
    flow.live.state = "up"
    person_answered = datetime.now(UTC)  # the record's answer is a person's (not an IVR's or a queue's)
    flow.live.answered_at = flow.live.answered_at or person_answered
    flow.talk_started = person_answered  # this party's talk (a queue agent's talk time counts from here)
    flow.live.answered_by = answered_by
    flow.queues.refresh()  # the callee (and an internal caller) are now busy for queues
    if flow.policy is RecordingPolicy.ALWAYS and left is None:
        try:
            await start_recording(flow)
        except AriError:  # the call goes on; losing a recording must not lose the call
            logger.exception("call %s: could not start recording", flow.live.call_id)
    records = flow.records
    await flow.deps.log.answered(
        await records.settled(),
        [await records.leg(flow.caller_id), await records.leg(callee)],
        await records.leg(callee),
        at=person_answered,
        answered_by=answered_by,
    )
    await talk(flow, left)


async def talk(flow: CallFlow, left: Event | None = None) -> None:
    """The bridged call goes on until one side hangs up (`left`, if it already has): then the other is
    hung up, the bridge (and its recording) ends and the records are closed. When an operator has sent
    the call on (flow.reroute), the released side's leaving ends only its leg: the routing loop takes
    the caller on, in the same bridge."""
    event = left
    while event is None:
        candidate = await flow.events.get()
        chan = channel_of(candidate)
        if flow.consult is not None and chan == flow.consult.channel:  # an attended transfer's destination
            await attended.consult_event(flow, candidate)
        elif chan in (flow.caller_id, flow.callee_id) and candidate["type"] in GONE:
            consulted = flow.consult is not None and flow.consult.answered
            if chan == flow.callee_id and consulted and flow.reroute is None:
                await attended.complete(flow, operator_gone=True)  # the operator hung up to transfer
                continue
            event = candidate
    chan, callee = str(channel_of(event)), flow.callee_id
    other = callee if chan == flow.caller_id else flow.caller_id
    if flow.reroute is not None and chan == callee:  # transferred: the caller goes on
        await flow.records.end_leg(chan, Disposition.TRANSFERRED.value, await flow.cause_of(chan, event))
        flow.release_agent()  # a queue's agent wraps up now
        flow.callee_id = flow.answered_number = flow.held = flow.live.answered_by = None
        flow.ringing_caller = None  # the caller hears ringback while the destination rings
        flow.live.state = "routing"
        flow.queues.refresh()  # the released side is free for queue calls again
        return
    flow.reroute = None  # the transfer's own party left: the call is over
    await attended.call_over(flow)
    if other is not None and other == flow.handed_over:  # a phone's attended transfer took it on
        cause = await flow.cause_of(chan, event)
        await flow.records.end_leg(chan, Disposition.TRANSFERRED.value, cause)
        await flow.records.end_leg(other, Disposition.TRANSFERRED.value, None)
    else:
        await flow.hangup_quietly(other)
        await flow.records.end_leg(chan, Disposition.ANSWERED.value, await flow.cause_of(chan, event))
        await flow.records.end_leg(other, Disposition.ANSWERED.value, 16)
    await flow.destroy_bridge()  # ends the recording too
    call = await flow.records.finish(Disposition.ANSWERED)
    if flow.recording_name:
        await flow.deps.reports.recording_done(call, flow.recording_name)


async def talk_on(flow: CallFlow) -> None:
    """An adopted call: go on until one side hangs up."""
    assert flow.callee_id is not None
    await talk(flow)


async def start_recording(flow: CallFlow) -> str:
    """Record the bridged call (idempotent); returns the recording's name."""
    if flow.bridge_id is None or not flow.talking:
        raise CallNotUp(f"call {flow.live.call_id} is not answered")
    if flow.recording_name is None:
        name = f"{flow.live.call_id}"
        await flow.client.record_bridge(flow.bridge_id, name, flow.deps.recording_format)
        flow.recording_name = name
    return flow.recording_name


async def stop_recording(flow: CallFlow) -> None:
    """Stop recording now (the file is indexed when the call ends)."""
    if flow.recording_name is not None:
        with contextlib.suppress(ChannelGone):
            await flow.client.stop_recording(flow.recording_name)
