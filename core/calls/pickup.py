"""Call pickup: a phone that dialled a pickup code (core/routing/pickup.py) takes a call ringing at a
number of its group, or at the number it named. The ringing call's flow answers it in its ringing step
(steps/dial.py), as if that phone had been rung and answered; the legs that rang stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from core.ari.client import AriError
from core.calls.deps import CallDeps
from core.calls.flow import CallFlow, Event
from core.calls.live import CallTable
from core.routing.pickup import Pickup, may_pick_up

logger = logging.getLogger(__name__)

PICKUP_REQUEST = "PickupRequest"  # the flow-internal event that hands the picking phone to a call
HANDOVER_SECONDS = 2.0  # how long the ringing call has to take the picking phone


def ringing_call(table: CallTable, request: Pickup, picker: str, mates: frozenset[str]) -> CallFlow | None:
    """The longest-ringing call the picker may take (not a queue's offer: agents take those)."""
    candidates = [
        flow
        for flow in table.flows()
        if flow.live.state == "ringing"
        and flow.ringing_now
        and flow.reroute is None
        and flow.on_answer is None
        and may_pick_up(request, picker, mates, [t.number for t in flow.ringing_now.values()])
    ]
    return min(candidates, key=lambda f: f.live.started_at, default=None)


async def pick_up(table: CallTable, deps: CallDeps, channel: Event, request: Pickup) -> None:
    """Hand the picking phone's channel to the ringing call it may take; with none, it gets 404."""
    picker = str((channel.get("caller") or {}).get("number") or "")
    mates = await deps.lookups.group_mates(picker) if request.number is None else frozenset()
    flow = ringing_call(table, request, picker, mates)
    client = deps.ari.client
    if flow is None:
        with contextlib.suppress(AriError):
            await client.hangup(channel["id"], "unallocated")
        return
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    table.own(channel["id"], flow)
    flow.events.put_nowait({"type": PICKUP_REQUEST, "channel": channel, "number": picker, "done": done})
    try:
        await asyncio.wait_for(done, HANDOVER_SECONDS)
    except TimeoutError:  # it was answered (or ended) meanwhile: nothing left to pick up
        table.release(channel["id"], flow)
        with contextlib.suppress(AriError):
            await client.hangup(channel["id"], "unallocated")
