"""Ringing and bridging, against a fake Asterisk: each outcome of an internal call."""

from __future__ import annotations

import pytest

from core.routing.forwarding import ExtensionInfo
from tests.unit.calls.fake_ari import CallLab, FakeLookups

pytestmark = pytest.mark.usefixtures("db")


def _lab(**kwargs) -> CallLab:
    phones = {n: ExtensionInfo(n, f"Phone {n}") for n in ("101", "102", "103")}
    return CallLab(FakeLookups(phones=phones), online=("101", "102"), **kwargs)


async def test_answered_call_is_bridged_and_closed_when_the_callee_hangs_up():
    lab = await _lab().start()
    caller = lab.call("101", "102", name="Alice")
    (callee,) = await lab.dialled()
    endpoint, _, app_args, caller_id, _, originator = lab.ari.sent("originate")[0]
    assert (endpoint, originator, caller_id) == ("PJSIP/102", caller, '"Alice" <101>')
    assert app_args.startswith("dialed,")
    lab.answer(callee)
    await lab.until(lambda: lab.ari.sent("add_to_bridge"))
    assert lab.ari.sent("answer") == [(caller,)]
    assert lab.ari.sent("add_to_bridge")[0][1] == [caller, callee]
    assert [c.state for c in lab.manager.live.values()] == ["up"]
    lab.hang_up(callee)
    (call,) = await lab.finished()
    assert (call.disposition, call.sip_code) == ("answered", None)
    assert (caller, "normal") in lab.ari.sent("hangup")  # the other side is hung up
    assert lab.ari.sent("destroy_bridge")
    assert {leg.role: leg.disposition for leg in await lab.legs(call)} == {
        "caller": "answered",
        "callee": "answered",
    }
    assert lab.event_types(call.call_id) == ["CallStarted", "CallRinging", "CallAnswered", "CallEnded"]
    assert lab.manager.live == {}


async def test_busy_callee_refuses_the_caller_with_486():
    lab = await _lab().start()
    caller = lab.call("101", "102")
    (callee,) = await lab.dialled()
    lab.hang_up(callee, cause=17)  # the phone answered 486
    (call,) = await lab.finished()
    assert (call.disposition, call.sip_code) == ("busy", 486)
    assert (caller, "busy") in lab.ari.sent("hangup")


async def test_no_answer_stops_the_ringing_and_refuses_with_480():
    lab = await _lab(ring_timeout=1).start()
    caller = lab.call("101", "102")
    (callee,) = await lab.dialled()
    (call,) = await lab.finished()
    assert (call.disposition, call.sip_code) == ("no_answer", 480)
    assert (callee, "normal") in lab.ari.sent("hangup")
    assert (caller, "no_answer") in lab.ari.sent("hangup")
    legs = {leg.role: (leg.disposition, leg.hangup_cause) for leg in await lab.legs(call)}
    assert legs["callee"] == ("no_answer", 19)


@pytest.mark.parametrize(
    ("dialled", "disposition", "sip_code"),
    [("199", "unknown_number", 404), ("103", "unavailable", 480), ("101", "busy", 486)],
)
async def test_refusals_before_anything_rings(dialled, disposition, sip_code):
    lab = await _lab().start()
    lab.call("101", dialled)
    (call,) = await lab.finished()
    assert (call.disposition, call.sip_code) == (disposition, sip_code)
    assert lab.ari.sent("originate") == []


async def test_caller_hanging_up_while_it_rings_cancels_the_callee():
    lab = await _lab().start()
    caller = lab.call("101", "102")
    (callee,) = await lab.dialled()
    lab.hang_up(caller)
    (call,) = await lab.finished()
    assert call.disposition == "cancelled"
    assert (callee, "normal") in lab.ari.sent("hangup")
    assert {leg.disposition for leg in await lab.legs(call)} == {"cancelled"}


async def test_a_leg_that_cannot_be_dialled_is_unavailable():
    from core.ari.client import AriError

    lab = await _lab().start()
    lab.ari.fail["originate"] = AriError("endpoint not found")
    lab.call("101", "102")
    (call,) = await lab.finished()
    assert (call.disposition, call.sip_code) == ("unavailable", 480)
    assert [leg.disposition for leg in await lab.legs(call) if leg.role == "callee"] == ["unavailable"]


async def test_a_side_leaving_between_the_answer_and_the_bridge_ends_an_answered_call():
    from core.ari.client import AriError

    lab = await _lab().start()
    lab.ari.fail["add_to_bridge"] = AriError("channel not found")
    caller = lab.call("101", "102")
    (callee,) = await lab.dialled()
    lab.answer(callee)
    await lab.until(lambda: lab.ari.sent("add_to_bridge"))
    lab.hang_up(caller)  # the caller had its 200 OK: answered, and ended by the caller
    (call,) = await lab.finished()
    assert call.disposition == "answered"
    assert (callee, "normal") in lab.ari.sent("hangup")
    assert lab.ari.sent("record_bridge") == []
