"""IVR menus: play the prompt, collect the caller's keys, and say where their choice leads."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from core.calls.flow import CallFlow, channel_of
from core.calls.media import answer_caller, play, stop_hold
from core.routing import REFUSALS, Disposition, Refusal, Rerouted
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

logger = logging.getLogger(__name__)

PROMPT_LIMIT = 300  # seconds a menu prompt may play before the menu stops waiting for its end
MAX_REPEATS = 10  # a caller can't keep the menu forever


async def ivr(flow: CallFlow, name: str) -> Rerouted | Refusal | None:
    """Play the menu until the caller chooses: where their choice (or the menu's fallback) leads, a
    refusal when the menu is gone, None when the caller hung up."""
    menu = await flow.deps.lookups.ivr(name)
    if menu is None:  # removed since it was configured
        return REFUSALS[Disposition.UNAVAILABLE]
    await answer_caller(flow)
    flow.live.state = "ivr"
    if flow.live.answered_at is None:
        flow.live.answered_at = datetime.now(UTC)
    numbers = flow.deps.directory.enabled_numbers()
    plays = repeats = 0
    while plays < menu.attempts:
        plays += 1
        step, digits = await _menu_choice(flow, menu, numbers)
        if step is None:
            await flow.cancelled(None)
            return None
        if step.input is Input.REPEAT and repeats < MAX_REPEATS:
            plays, repeats = plays - 1, repeats + 1
        elif step.input is Input.CHOSEN and step.destination is not None:
            return Rerouted(f"ivr:{name} {digits}", step.destination)
        elif step.input is Input.INVALID:  # "not a valid option" / "not a valid extension"
            await flow.client.play(
                flow.caller_id, NO_SUCH_NUMBER_PROMPT if len(digits) > 1 else INVALID_PROMPT
            )
    return Rerouted(f"ivr:{name} no choice", menu.fallback)


async def _menu_choice(flow: CallFlow, menu: IvrInfo, numbers: list[str]) -> tuple[MenuStep | None, str]:
    """Play the menu once and collect the caller's keys: (their choice, the keys), or (None, "") when the
    caller hung up. Pressing a key cuts the prompt short."""
    loop = asyncio.get_running_loop()
    playback = await play(flow, menu.prompt)
    digits, choice_deadline = "", loop.time() + PROMPT_LIMIT
    while True:
        waiting = DIGIT_WAIT if digits else max(choice_deadline - loop.time(), 0)
        event = await flow.next_event(waiting)
        if event is None:
            if digits:
                return digits_complete(menu, digits, numbers), digits
            if flow.playback is None:
                return MenuStep(Input.NOTHING), ""
            flow.playback, choice_deadline = None, loop.time() + menu.timeout  # no end reported
            continue
        kind, chan = event["type"], channel_of(event)
        if flow.caller_left(event):
            return None, ""
        if kind == "PlaybackFinished" and (event.get("playback") or {}).get("id") == playback:
            flow.playback, choice_deadline = None, loop.time() + menu.timeout
            if (event.get("playback") or {}).get("state") == "failed":  # e.g. a missing sound file
                logger.warning("IVR %s: its prompt %s could not be played", menu.name, menu.prompt)
        elif kind == "ChannelDtmfReceived" and chan == flow.caller_id:
            if flow.playback is not None:
                await stop_hold(flow)
            digits += str(event.get("digit", ""))
            step = pressed(menu, digits, numbers)
            if step.input is not Input.MORE:
                return step, digits
