"""Attended transfer: the party to transfer waits on hold (music) while the other side, the operator,
talks to the destination in the call's bridge; then the operator completes the transfer (the held party
and the destination are bridged, the operator released; hanging up does the same) or cancels it (the
destination is hung up, the held party back). Started by core/calls/actions.py; the consultation's
events are followed by the bridged call's `talk` (steps/bridge.py)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from core.ari.client import AriError
from core.calls.flow import GONE, CallFlow, Event
from core.routing import Disposition


@dataclass
class Consult:
    """The destination being consulted: its channel, its number, how it was written, and the party
    (caller or callee, as the operator named it) waiting to be transferred to it."""

    channel: str
    number: str
    destination: str
    party: str
    answered: bool = False


async def consult_event(flow: CallFlow, event: Event) -> None:
    """An event of the consulted destination's channel."""
    consult = flow.consult
    assert consult is not None and flow.bridge_id is not None
    if event["type"] == "StasisStart" and not consult.answered:  # it answered: it talks to the operator
        consult.answered = True
        await flow.client.add_to_bridge(flow.bridge_id, [consult.channel])
    elif event["type"] in GONE:  # it hung up, or never answered: back to the held party
        flow.consult = None
        outcome = Disposition.ANSWERED if consult.answered else Disposition.NO_ANSWER
        await flow.records.end_leg(consult.channel, outcome.value, event.get("cause"))
        await resume_held(flow)


async def complete(flow: CallFlow, operator_gone: bool = False) -> Consult:
    """The held party and the destination are bridged, the operator released; returns the consultation."""
    consult, operator = flow.consult, flow.callee_id
    assert consult is not None and operator is not None
    flow.consult = None
    flow.release_agent()  # a queue's agent wraps up now
    flow.callee_id, flow.answered_number = consult.channel, consult.number
    flow.live.callee = flow.live.answered_by = consult.number  # the live view: whom the caller talks to now
    await resume_held(flow)
    if not operator_gone:
        await flow.hangup_quietly(operator)
    await flow.records.end_leg(operator, Disposition.TRANSFERRED.value, 16)
    records = flow.records
    await flow.deps.log.answered(
        await records.settled(),
        [await records.leg(flow.caller_id), await records.leg(consult.channel)],
        await records.leg(consult.channel),
        at=flow.live.answered_at,
        answered_by=consult.number,
    )
    if operator_gone:  # completed from the phone: no operator's request says so
        await flow.deps.log.transferred_by_phone(await records.settled(), consult.party, consult.destination)
    flow.queues.refresh()  # the operator is free for queue calls again
    return consult


async def cancel(flow: CallFlow) -> Consult:
    """The destination is hung up, the held party back with the operator."""
    consult = flow.consult
    assert consult is not None
    flow.consult = None
    await flow.hangup_quietly(consult.channel)
    await flow.records.end_leg(consult.channel, Disposition.CANCELLED.value, None)
    await resume_held(flow)
    return consult


async def resume_held(flow: CallFlow) -> None:
    """The held party comes back into the call's bridge."""
    held = flow.held
    if held is None or flow.bridge_id is None:
        return
    with contextlib.suppress(AriError):
        await flow.client.stop_moh(held)
    with contextlib.suppress(AriError):  # it may have just hung up: the talk loop sees it next
        await flow.client.add_to_bridge(flow.bridge_id, [held])
    flow.held, flow.live.state = None, "up"


async def call_over(flow: CallFlow) -> None:
    """The call ended during a consultation: the destination is hung up too."""
    if flow.consult is not None:
        channel, flow.consult = flow.consult.channel, None
        await flow.hangup_quietly(channel)
        await flow.records.end_leg(channel, Disposition.CANCELLED.value, None)
