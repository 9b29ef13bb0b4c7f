"""What the caller hears: the answer, ringback, music on hold, prompts and announcements, refusal tones."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import UTC, datetime

from core.ari.client import AriError, ChannelGone
from core.calls.flow import CallFlow, Event
from core.routing import Disposition, Refusal

logger = logging.getLogger(__name__)

PLAYBACK_PREFIX = "pbx-playback-"
REFUSAL_TONE_SECONDS = 3.0  # how long an answered caller hears busy (or congestion) before the PBX hangs up


async def answer_caller(flow: CallFlow, by_pbx: bool = True) -> None:
    """Answer the caller: the PBX itself (an IVR, a queue, voicemail: the record keeps when), or for the
    person who answered (`by_pbx` False; the record's answer is theirs, written when they are bridged)."""
    if not flow.answered:
        await flow.client.answer(flow.caller_id)
        flow.answered = True
        if by_pbx:
            at, log = datetime.now(UTC), flow.deps.log
            flow.records.publish(lambda call: log.pbx_answered(call, at))


async def connect_caller(flow: CallFlow) -> None:
    """A callee answered: answer the caller, or stop what the answered caller hears while waiting."""
    if not flow.answered:
        await answer_caller(flow, by_pbx=False)
        return
    with contextlib.suppress(AriError):  # the ringback tone played to an answered caller
        await flow.client.ring_stop(flow.caller_id)
    await stop_hold(flow)


async def ring_caller(flow: CallFlow) -> None:
    if flow.holding is not None:  # a queue caller keeps the music until an agent answers
        return
    with contextlib.suppress(AriError):  # a caller who already left needs no ringing
        await flow.client.ring(flow.caller_id)


async def hold(flow: CallFlow, music: str) -> None:
    try:
        await flow.client.start_moh(flow.caller_id, music)
        flow.holding = music
    except ChannelGone:
        raise
    except AriError:  # silence is better than losing the caller
        logger.exception("call %s: no music on hold (class %s)", flow.live.call_id, music)


async def stop_hold(flow: CallFlow) -> None:
    """Stop the music on hold and any announcement."""
    if flow.playback is not None:
        with contextlib.suppress(AriError):
            await flow.client.stop_playback(flow.playback)
        flow.playback = None
    if flow.holding is not None:
        with contextlib.suppress(AriError):
            await flow.client.stop_moh(flow.caller_id)
        flow.holding = None
        flow.ringing_caller = None  # whoever is rung next (an overflow), the caller hears ringback


async def play(flow: CallFlow, media: str | list[str]) -> str:
    """Play to the caller; returns the playback's id (its PlaybackFinished event carries it)."""
    playback = f"{PLAYBACK_PREFIX}{uuid.uuid4()}"
    await flow.client.play(flow.caller_id, media, playback)
    flow.playback = playback
    return playback


async def playback_finished(flow: CallFlow, event: Event) -> None:
    """A waiting caller's announcement ended: the music on hold goes on."""
    if (event.get("playback") or {}).get("id") != flow.playback:
        return
    flow.playback = None
    if flow.holding is not None:
        with contextlib.suppress(AriError):
            await flow.client.start_moh(flow.caller_id, flow.holding)


async def refuse(flow: CallFlow, refusal: Refusal) -> None:
    """End the call with the caller's final answer: a SIP code before it is answered, a tone after."""
    cause = None
    if flow.answered:  # a menu or a queue answered: no SIP code can tell the caller, a tone does
        cause = await _tone_then_hang_up(flow, refusal)
    else:
        with contextlib.suppress(ChannelGone):
            await flow.client.hangup(flow.caller_id, refusal.reason)
    await flow.records.end_leg(flow.caller_id, refusal.disposition.value, cause)
    await flow.records.finish(refusal.disposition, None if flow.answered else refusal.sip_code)


async def _tone_then_hang_up(flow: CallFlow, refusal: Refusal) -> int | None:
    """Busy (or congestion) tone to an answered caller for a few seconds, then hang up; the hangup cause
    when the caller left first. The `hangup` destination hangs up at once."""
    if refusal.disposition is not Disposition.DECLINED:
        await stop_hold(flow)
        busy = refusal.disposition in (Disposition.BUSY, Disposition.BLOCKED)
        with contextlib.suppress(AriError):
            await flow.client.play(flow.caller_id, "tone:busy" if busy else "tone:congestion")
            loop = asyncio.get_running_loop()
            deadline = loop.time() + REFUSAL_TONE_SECONDS
            while (event := await flow.next_event(deadline - loop.time())) is not None:
                if flow.caller_left(event):
                    return await flow.cause_of(flow.caller_id, event)
    await flow.hangup_quietly(flow.caller_id)
    return None
