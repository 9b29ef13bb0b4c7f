"""How raw ARI events reach call flows: dispatch on StasisStart args, events told apart once."""

from __future__ import annotations

import asyncio

import pytest

from core.routing.destinations import Destination, DestinationKind
from core.routing.forwarding import ExtensionInfo
from core.routing.ivr import IvrInfo
from tests.unit.calls.fake_ari import CallLab, FakeLookups

pytestmark = pytest.mark.usefixtures("db")


def _lab() -> CallLab:
    return CallLab(FakeLookups(phones={n: ExtensionInfo(n) for n in ("101", "102")}), online=("101", "102"))


async def _menu_lab(**menu) -> CallLab:
    lab = _lab()
    lab.lookups.menus["main"] = IvrInfo("main", "sound:menu", {}, direct_dial=True, **menu)
    lab.lookups.owners["500"] = Destination(DestinationKind.IVR, "main")
    return await lab.start()


async def test_a_key_reported_twice_counts_once():
    lab = await _menu_lab()
    caller = lab.call("101", "500")
    await lab.until(lambda: lab.ari.sent("play"))
    for digit in "102":  # Asterisk reports each key once for our app and once for the endpoint subscription
        key = {"type": "ChannelDtmfReceived", "channel": {"id": caller}, "digit": digit, "timestamp": digit}
        lab.send(dict(key))
        lab.send(dict(key))
    await lab.dialled()
    assert lab.ari.sent("originate")[0][0] == "PJSIP/102"  # not 110022
    lab.hang_up(caller)
    await lab.finished()


async def test_an_announcement_ending_reaches_the_call_of_its_channel_only(monkeypatch):
    monkeypatch.setattr("core.calls.steps.ivr.PROMPT_LIMIT", 30)
    lab = await _menu_lab(timeout=0)
    caller = lab.call("101", "500")
    await lab.until(lambda: lab.ari.sent("play"))
    playback = lab.ari.sent("play")[0][2]
    lab.playback_finished(playback, "someone-else")  # addressed to another channel: not this call's
    await asyncio.sleep(0.05)
    assert lab.manager.live and len(lab.ari.sent("play")) == 1
    lab.playback_finished(playback, caller)  # the prompt ended: with no wait left, the menu plays again
    await lab.until(lambda: len(lab.ari.sent("play")) == 2)
    lab.hang_up(caller)
    await lab.finished()


async def test_a_stasis_start_with_unknown_args_is_hung_up():
    lab = await _lab().start()
    lab.send({"type": "StasisStart", "args": ["nonsense"], "channel": {"id": "chan-x"}})
    await lab.finished()
    assert lab.ari.sent("hangup") == [("chan-x", "congestion")]
    assert lab.manager.live == {}


async def test_a_dialled_leg_whose_call_is_gone_is_hung_up():
    lab = await _lab().start()
    lab.answer("pbx-stale-leg")  # e.g. the daemon restarted while it rang
    await lab.finished()
    assert lab.ari.sent("hangup") == [("pbx-stale-leg", "normal")]


async def test_registrations_are_followed_from_endpoint_events():
    lab = await _lab().start()
    lab.send(
        {
            "type": "EndpointStateChange",
            "endpoint": {"technology": "PJSIP", "resource": "103", "state": "online"},
        }
    )
    assert lab.manager.endpoints["103"] == "online"
    lab.send(
        {
            "type": "EndpointStateChange",
            "endpoint": {"technology": "PJSIP", "resource": "103", "state": "offline"},
        }
    )
    assert lab.manager.endpoints["103"] == "offline"


async def test_a_callee_answering_twice_is_bridged_once():
    lab = await _lab().start()
    caller = lab.call("101", "102")
    (callee,) = await lab.dialled()
    lab.answer(callee)
    lab.answer(callee)  # a repeated StasisStart must not bridge (or answer) again
    await lab.until(lambda: lab.ari.sent("add_to_bridge"))
    lab.hang_up(caller)
    (call,) = await lab.finished()
    assert call.disposition == "answered"
    assert len(lab.ari.sent("create_bridge")) == 1
    assert lab.ari.sent("answer") == [(caller,)]
