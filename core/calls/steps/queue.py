"""Waiting in a queue: music and announcements, offered to agents as they are free, until one answers
or the caller overflows. The queues' live state is core/calls/queues.py's QueueBoard."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
from datetime import UTC, datetime

from core.ari.client import AriError
from core.calls.flow import CallFlow, Target
from core.calls.media import answer_caller, hold, play, playback_finished, stop_hold
from core.calls.queues import QueueRuntime, Waiter
from core.calls.steps.dial import ring, target
from core.routing import (
    REFUSALS,
    DialExtension,
    Disposition,
    Forward,
    ForwardCondition,
    Refusal,
    decide_forward_external,
)
from core.routing.queues import QueueInfo, announcement

QUEUE_LOOK_AGAIN = 1.0  # seconds between a waiting caller's looks for a ready agent, wake-ups aside


async def queue(flow: CallFlow, name: str) -> Forward | Refusal | None:
    """Wait in the queue until an agent answers (None: the call is over) or the caller overflows (a
    Forward to the overflow destination); a refusal when the queue is gone."""
    board = flow.queues
    runtime = await board.open(name)
    if runtime is None:  # removed since it was configured
        return REFUSALS[Disposition.UNAVAILABLE]
    info = runtime.info
    flow.recording_policies.append(info.recording)
    if not runtime.has_agents_logged_in():
        return _overflow(info, ForwardCondition.UNAVAILABLE, Disposition.UNAVAILABLE)
    await answer_caller(flow)
    await hold(flow, info.music)
    flow.live.state = "queued"
    waiter = board.join(runtime, flow.live.call_id, flow.caller_number, flow.wake)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + info.max_wait
    announce_at = loop.time() + info.announce_every if info.announce_every else math.inf
    try:
        while True:
            info, now = runtime.info, loop.time()
            if now >= deadline:
                board.leave(runtime, waiter, "timeout")
                return _overflow(info, ForwardCondition.NO_ANSWER, Disposition.NO_ANSWER)
            if not runtime.has_agents_logged_in():
                board.leave(runtime, waiter, "no_agents")
                return _overflow(info, ForwardCondition.UNAVAILABLE, Disposition.UNAVAILABLE)
            agents = board.offer(runtime, waiter)
            if agents:
                if not await _offer(flow, runtime, waiter, agents, deadline - now):
                    return None
                continue
            if now >= announce_at:
                if flow.playback is None:  # else the last one still plays: skip this one
                    with contextlib.suppress(AriError):  # the caller may have just left: seen next
                        await _announce(flow, runtime, waiter)
                announce_at = now + info.announce_every
            event = await flow.next_event(min(deadline, announce_at, now + QUEUE_LOOK_AGAIN) - now)
            if event is None:
                continue
            if flow.caller_left(event):
                board.leave(runtime, waiter, "abandoned")
                await flow.cancelled(event.get("cause"))
                return None
            if event["type"] == "PlaybackFinished":
                await playback_finished(flow, event)
    finally:
        board.leave(runtime, waiter, "abandoned")  # only if still waiting (a failure)
        if flow.callee_id is None:
            await stop_hold(flow)


def _overflow(info: QueueInfo, condition: ForwardCondition, outcome: Disposition) -> Forward:
    return Forward(f"queue:{info.name}", condition, info.overflow, REFUSALS[outcome])


async def _announce(flow: CallFlow, runtime: QueueRuntime, waiter: Waiter) -> None:
    """Tell a waiting caller their position (and the expected wait), then back to the music."""
    media = announcement(runtime.position(waiter), runtime.expected_wait(waiter))
    if flow.holding is not None:
        with contextlib.suppress(AriError):
            await flow.client.stop_moh(flow.caller_id)
    await play(flow, media)


async def _offer(
    flow: CallFlow, runtime: QueueRuntime, waiter: Waiter, agents: list[str], left: float
) -> bool:
    """Ring these agents for the caller. False when the call is over (answered and ended, or the caller
    hung up); True when nobody answered and the caller waits on."""
    board, info = flow.queues, runtime.info
    targets: list[Target] = []
    for number in agents:
        agent = info.agent(number)
        if agent is not None and agent.remote:
            dial = decide_forward_external(number, await flow.deps.lookups.outbound_trunk())
            if isinstance(dial, Refusal):  # no trunk to reach the remote agent now
                board.unanswered(runtime, number, None)
                continue
            targets.append(target(flow, dial))
        else:
            targets.append(target(flow, DialExtension(number)))
    timeouts = [a.timeout or info.agent_timeout for n in agents if (a := info.agent(n)) is not None]
    seconds = min(max(timeouts, default=info.agent_timeout), max(left, 1))
    flow.on_answer = functools.partial(board.answered, runtime, waiter)
    flow.on_unanswered = functools.partial(board.unanswered, runtime)
    answered = None

    def wrap_up(number: str) -> None:  # the agent's part of the call is over: count it, then wrap up
        nonlocal answered
        answered = number
        talk = (datetime.now(UTC) - (flow.talk_started or datetime.now(UTC))).total_seconds()
        board.finished(runtime, number, talk, flow.live.call_id)

    flow.on_released = wrap_up  # an operator transferred the call: the agent is free at once
    try:
        outcome = await ring(flow, targets, seconds) if targets else REFUSALS[Disposition.UNAVAILABLE]
    finally:
        flow.on_answer = flow.on_unanswered = None
        if flow.on_released is not None and flow.answered_number is not None:
            flow.on_released(flow.answered_number)  # the call with the agent is over (or failed)
        flow.on_released = flow.answered_number = None
    if outcome is not None:
        board.release(runtime, waiter)
        return True
    if answered is None:  # the caller hung up while agents rang, or an operator redirected the call
        board.leave(runtime, waiter, "redirected" if flow.reroute else "abandoned")
    return False
