"""Calls that outlive the daemon: after a restart, the bridged calls Asterisk still holds are taken over.

A call is bridged inside Asterisk, so it need not die with the daemon. At (re)connect, every bridge of
ours (`pbx-bridge-<call id>`) that no flow owns, whose caller and answered callee are both still there,
is adopted: its record stays open, its live view comes back, and it ends as any answered call does when
one side hangs up. What cannot be adopted (a caller in a menu or a queue, a callee still ringing, a bridge
one side has left) is ended, and its record closed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.ari.client import AriClient, AriError

if TYPE_CHECKING:
    from core.calls.manager import CallManager
    from core.models import Call, CallLeg
    from core.services.calls import CallLog

logger = logging.getLogger(__name__)

Event = dict[str, Any]


@dataclass(frozen=True)
class Bridged:
    """A call found bridged in Asterisk, with the records of its two sides."""

    bridge_id: str
    call: Call
    caller: CallLeg
    callee: CallLeg


def answered_number(leg: CallLeg) -> str:
    """The number a callee leg reached: `PJSIP/102` → 102, `PJSIP/trunk-x/+1555…` → +1555…."""
    return leg.endpoint.rsplit("/", 1)[-1]


async def bridged_calls(
    log: CallLog, bridges: list[Event], live: set[str], prefix: str
) -> tuple[list[Bridged], list[str]]:
    """Of our bridges no flow owns: the calls that can be adopted, and the bridges that cannot."""
    adoptable, stale = [], []
    for bridge in bridges:
        bridge_id = str(bridge["id"])
        if not bridge_id.startswith(prefix):
            continue
        members = {str(c) for c in bridge.get("channels") or []} & live
        record = await log.open_call(bridge_id.removeprefix(prefix))
        call, legs = record if record is not None else (None, [])
        by_channel = {leg.channel_id: leg for leg in legs}
        callers = [by_channel[c] for c in members if c in by_channel and by_channel[c].role == "caller"]
        callees = [by_channel[c] for c in members if c in by_channel and by_channel[c].role == "callee"]
        if call is not None and call.answered_at and len(callers) == 1 and len(callees) == 1:
            adoptable.append(Bridged(bridge_id, call, callers[0], callees[0]))
        else:
            stale.append(bridge_id)
    return adoptable, stale


async def confirm_alive(manager: CallManager, client: AriClient, channel_ids: set[str]) -> None:
    """A side that hung up while the adoption was under way sent its events to nobody: tell its flow."""
    try:
        existing = {c["id"] for c in await client.list_channels()}
    except AriError:
        return
    for channel_id in channel_ids - existing:
        flow = manager.flow_of_channel(channel_id)
        if flow is not None:
            flow.events.put_nowait(
                {"type": "ChannelDestroyed", "channel": {"id": channel_id}, "resync": True}
            )


async def adopt(
    manager: CallManager, client: AriClient, found: list[Bridged], channels: dict[str, Event]
) -> int:
    """Take over each bridged call: a flow that waits for one side to hang up. Returns how many."""
    for bridged in found:
        flow = manager.resume_bridged(bridged, channels[bridged.caller.channel_id])
        try:
            if await client.live_recording(bridged.call.call_id):
                flow.recording_name = bridged.call.call_id  # indexed when the call ends, as usual
        except AriError:
            logger.warning("call %s: could not tell whether it is being recorded", bridged.call.call_id)
    if found:
        await confirm_alive(
            manager, client, {c for b in found for c in (b.caller.channel_id, b.callee.channel_id)}
        )
        logger.info("took over %d answered calls left by a previous run", len(found))
    return len(found)
