"""What an operator does to a call in progress, on Asterisk: hang it up, transfer one side of an answered
call, redirect a ringing one, hold and resume a side. The flow's own task follows through (the routing
loop takes a transferred or redirected caller on): these functions only start it, and refuse what the
call's state does not allow.

Parties are named as the call record names its legs: the `caller` and the `callee` (who answered).
"""

from __future__ import annotations

import contextlib
import logging
import uuid

from core.ari.client import AriError, ChannelGone
from core.calls import attended
from core.calls.attended import Consult
from core.calls.flow import CHANNEL_PREFIX, CallFlow, Target
from core.calls.steps.bridge import CallNotUp
from core.errors import InvalidInput
from core.routing import Disposition
from core.routing.destinations import Destination

logger = logging.getLogger(__name__)

PARTIES = ("caller", "callee")
HOLD_MUSIC = "default"  # the music on hold class a held party hears


def party_channel(flow: CallFlow, party: str) -> str:
    """The channel of `party` (caller or callee) of an answered call."""
    if party not in PARTIES:
        raise InvalidInput(f"party {party!r} must be caller or callee")
    channel = flow.caller_id if party == "caller" else flow.callee_id
    assert channel is not None
    return channel


def _answered(flow: CallFlow, what: str) -> None:
    if not flow.talking or flow.bridge_id is None:
        hint = ": redirect it instead" if flow.live.state == "ringing" else ""
        raise CallNotUp(f"call {flow.live.call_id} is not answered, so it cannot be {what}{hint}")
    if flow.reroute is not None:
        raise CallNotUp(f"call {flow.live.call_id} is being transferred already")
    if flow.consult is not None:
        raise CallNotUp(
            f"call {flow.live.call_id} has an attended transfer in progress: complete or cancel it"
        )


async def hang_up(flow: CallFlow) -> None:
    """End the call: the caller is hung up, and the flow ends the rest as when the caller leaves."""
    with contextlib.suppress(ChannelGone):  # it was ending anyway
        await flow.client.hangup(flow.caller_id, "normal")


def check_transfer(flow: CallFlow, party: str) -> None:
    """Refuses (CallNotUp) what a transfer of `party` cannot do now, before anything is done."""
    _answered(flow, "transferred")
    party_channel(flow, party)  # a party that exists
    if party == "callee" and flow.on_released is not None:
        raise CallNotUp(f"call {flow.live.call_id} is a queue call: its agent stays, transfer the caller")


async def transfer(flow: CallFlow, dest: Destination, party: str) -> None:
    """Blind transfer: `party` goes to `dest`, the other side is released (hung up); the routing loop
    then takes `party` there in the same bridge (and recording), with ringback while it rings."""
    check_transfer(flow, party)
    if party == "callee":
        flow.swap_parties()  # the one who goes on is the flow's caller
    moving, released = flow.caller_id, flow.callee_id
    assert flow.bridge_id is not None and released is not None
    if flow.held == moving:  # back from the music: it hears ringback next
        with contextlib.suppress(AriError):
            await flow.client.stop_moh(moving)
        flow.held = None
    elif flow.held != released:
        await flow.client.remove_from_bridge(flow.bridge_id, [moving])
    flow.reroute = dest
    await flow.hangup_quietly(released)  # the flow's talk sees it leave, and hands `moving` on


async def consult(flow: CallFlow, to: Target, number: str, dest: Destination, party: str) -> None:
    """Attended transfer, first step: `party` waits on hold (music) while the destination `to` is rung
    for the other side, the operator, who talks to it in the call's bridge once it answers. Then
    `complete_transfer` or `cancel_transfer` (core/calls/attended.py)."""
    _answered(flow, "transferred")
    party_channel(flow, party)
    if flow.consult is not None or flow.held is not None:
        raise CallNotUp(f"call {flow.live.call_id} has a party on hold: resume it, or finish that transfer")
    if party == "callee" and flow.on_released is not None:
        raise CallNotUp(f"call {flow.live.call_id} is a queue call: its agent stays, transfer the caller")
    if party == "callee":
        flow.swap_parties()  # the one who waits (and then goes on) is the flow's caller
    operator = flow.callee_id
    await hold(flow, "caller")
    channel = f"{CHANNEL_PREFIX}{uuid.uuid4()}"
    flow.own(channel)
    flow.records.add_leg(channel, "callee", to.leg_endpoint)
    flow.consult = Consult(channel, number, str(dest), party)
    try:
        await flow.client.originate(
            to.endpoint,
            channel,
            f"dialed,{flow.live.call_id}",
            to.caller_id,
            flow.deps.settings.ring_timeout,
            operator,
        )
    except AriError as exc:
        flow.consult = None
        await flow.records.end_leg(channel, Disposition.UNAVAILABLE.value, None)
        await attended.resume_held(flow)
        raise CallNotUp(f"call {flow.live.call_id}: could not ring {number}: {exc}") from None


async def complete_transfer(flow: CallFlow) -> tuple[str, str]:
    """Attended transfer, done: the held party talks to the destination; returns (destination, party)."""
    if flow.consult is None:
        raise CallNotUp(f"call {flow.live.call_id} has no transfer in progress: start one first")
    if not flow.consult.answered:
        raise CallNotUp(f"{flow.consult.number} has not answered yet: wait, or cancel the transfer")
    done = await attended.complete(flow)
    return done.destination, done.party


async def cancel_transfer(flow: CallFlow) -> tuple[str, str]:
    """Attended transfer, called off: the destination is hung up, the held party is back; returns
    (destination, party)."""
    if flow.consult is None:
        raise CallNotUp(f"call {flow.live.call_id} has no transfer in progress")
    called_off = await attended.cancel(flow)
    return called_off.destination, called_off.party


async def redirect(flow: CallFlow, dest: Destination) -> None:
    """A ringing call goes to `dest` instead: what rings stops, the routing loop takes it on."""
    if flow.live.state != "ringing" or not flow.ringing_now:
        hint = ": transfer it instead" if flow.talking else ""
        raise CallNotUp(f"call {flow.live.call_id} is not ringing, so it cannot be redirected{hint}")
    if flow.reroute is not None:
        raise CallNotUp(f"call {flow.live.call_id} is being redirected already")
    flow.reroute = dest
    flow.events.put_nowait({"type": "Reroute"})  # wakes the ringing step


async def hold(flow: CallFlow, party: str) -> None:
    """`party` leaves the bridge and hears music on hold; the other side hears silence."""
    _answered(flow, "put on hold")
    channel = party_channel(flow, party)
    if flow.held is not None:
        raise CallNotUp(f"call {flow.live.call_id} is on hold already: resume it first")
    assert flow.bridge_id is not None
    await flow.client.remove_from_bridge(flow.bridge_id, [channel])
    flow.held, flow.live.state = channel, "held"
    try:
        await flow.client.start_moh(channel, HOLD_MUSIC)
    except ChannelGone:
        raise
    except AriError:  # held in silence is better than a failed hold
        logger.exception("call %s: no music on hold", flow.live.call_id)


async def resume(flow: CallFlow) -> str:
    """The held party comes back into the bridge; returns which party it was."""
    if flow.consult is not None:
        raise CallNotUp(
            f"call {flow.live.call_id} has an attended transfer in progress: complete or cancel it"
        )
    if flow.held is None or flow.bridge_id is None or flow.reroute is not None:
        raise CallNotUp(f"call {flow.live.call_id} is not on hold")
    channel = flow.held
    party = "caller" if channel == flow.caller_id else "callee"
    with contextlib.suppress(AriError):
        await flow.client.stop_moh(channel)
    await flow.client.add_to_bridge(flow.bridge_id, [channel])
    flow.held, flow.live.state = None, "up"
    return party
