"""IVR menus against a fake Asterisk: a choice, an invalid key, no choice, a menu removed meanwhile."""

from __future__ import annotations

import pytest

from core.routing.destinations import Destination, DestinationKind
from core.routing.forwarding import ExtensionInfo
from core.routing.ivr import INVALID_PROMPT, IvrInfo
from tests.unit.calls.fake_ari import CallLab, FakeLookups

pytestmark = pytest.mark.usefixtures("db")

SALES = Destination(DestinationKind.EXTENSION, "102")


def _lab(**menu) -> CallLab:
    phones = {n: ExtensionInfo(n) for n in ("101", "102")}
    info = IvrInfo("main", "sound:menu", {"1": SALES, "9": Destination(DestinationKind.BUSY)}, **menu)
    lookups = FakeLookups(
        phones=phones, menus={"main": info}, owners={"500": Destination(DestinationKind.IVR, "main")}
    )
    return CallLab(lookups, online=("101", "102"))


async def _prompt(lab: CallLab) -> str:
    """The playback id of the menu prompt the caller hears now."""
    await lab.until(lambda: [p for p in lab.ari.sent("play") if p[1] == "sound:menu"])
    return [p for p in lab.ari.sent("play") if p[1] == "sound:menu"][-1][2]


async def test_a_key_sends_the_caller_where_it_says():
    lab = await _lab().start()
    caller = lab.call("101", "500")
    playback = await _prompt(lab)
    assert lab.ari.sent("answer") == [(caller,)]
    assert [c.state for c in lab.manager.live.values()] == ["ivr"]
    lab.press(caller, "1")
    (callee,) = await lab.dialled()
    assert (playback,) in lab.ari.sent("stop_playback")  # a key cuts the prompt short
    lab.answer(callee)
    await lab.until(lambda: lab.ari.sent("add_to_bridge"))
    lab.hang_up(caller)
    (call,) = await lab.finished()
    assert call.disposition == "answered"
    assert "CallRerouted" in lab.event_types(call.call_id)


async def test_an_invalid_key_is_told_and_the_menu_plays_again():
    lab = await _lab(attempts=2).start()
    caller = lab.call("101", "500")
    await _prompt(lab)
    lab.press(caller, "7")
    await lab.until(lambda: (caller, INVALID_PROMPT, None) in lab.ari.sent("play"))
    await lab.until(lambda: len([p for p in lab.ari.sent("play") if p[1] == "sound:menu"]) == 2)
    lab.hang_up(caller)
    (call,) = await lab.finished()
    assert call.disposition == "cancelled"


async def test_a_menu_choice_of_busy_plays_the_busy_tone_then_hangs_up():
    lab = await _lab().start()
    caller = lab.call("101", "500")
    await _prompt(lab)
    lab.press(caller, "9")
    await lab.until(lambda: (caller, "tone:busy", None) in lab.ari.sent("play"))
    lab.hang_up(caller)
    (call,) = await lab.finished()
    assert (call.disposition, call.sip_code) == ("busy", None)  # answered: a tone, no SIP code


async def test_no_choice_goes_to_the_fallback(monkeypatch):
    monkeypatch.setattr("core.calls.steps.ivr.PROMPT_LIMIT", 0.05)
    lab = await _lab(attempts=1, timeout=0).start()
    caller = lab.call("101", "500")
    await _prompt(lab)
    (call,) = await lab.finished()
    assert call.disposition == "declined"  # the fallback, hangup, hangs up at once
    assert (caller, "normal") in lab.ari.sent("hangup")


async def test_a_menu_removed_since_it_was_configured_is_unavailable():
    lab = await _lab().start()
    del lab.lookups.menus["main"]
    caller = lab.call("101", "500")
    (call,) = await lab.finished()
    assert (call.disposition, call.sip_code) == ("unavailable", 480)
    assert (caller, "no_answer") in lab.ari.sent("hangup")
