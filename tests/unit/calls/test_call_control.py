"""Live call control against a fake Asterisk: hang up, blind transfer (either party), redirect a ringing
call, hold and resume; and the refusals of what a call's state does not allow."""

from __future__ import annotations

import pytest

from core.calls.steps.bridge import CallNotUp
from core.errors import Conflict, InvalidInput, NotFound
from core.routing import OutboundPermission
from core.routing.destinations import parse_destination
from core.routing.forwarding import ExtensionInfo
from tests.unit.calls.fake_ari import CallLab, FakeLookups

pytestmark = pytest.mark.usefixtures("db")


def _lab(**kwargs) -> CallLab:
    phones = {n: ExtensionInfo(n, f"Phone {n}") for n in ("101", "102", "103", "104")}
    return CallLab(FakeLookups(phones=phones), online=("101", "102", "103", "104"), **kwargs)


async def _answered(lab: CallLab, caller: str = "101", callee: str = "102") -> tuple[str, str, str]:
    """A call from `caller` answered by `callee`: (call id, caller channel, callee channel)."""
    channel = lab.call(caller, callee)
    (answered,) = await lab.dialled()
    lab.answer(answered)
    await lab.until(lambda: [c for c in lab.manager.live.values() if c.state == "up"])
    (call_id,) = lab.manager.live
    return call_id, channel, answered


async def test_hang_up_ends_the_call_as_answered_and_hangs_up_both_sides():
    lab = await _lab().start()
    call_id, caller, callee = await _answered(lab)
    await lab.manager.control.hang_up(call_id)
    assert (caller, "normal") in lab.ari.sent("hangup")
    lab.hang_up(caller)
    (call,) = await lab.finished()
    assert call.disposition == "answered"
    assert (callee, "normal") in lab.ari.sent("hangup")


async def test_blind_transfer_of_the_caller_rings_the_destination_and_bridges_it_in_the_same_bridge():
    lab = await _lab().start()
    call_id, caller, callee = await _answered(lab)
    (bridge_id,) = [args[0] for args in lab.ari.sent("create_bridge")]
    await lab.manager.control.transfer(call_id, parse_destination("ext:103"), "caller")
    assert lab.ari.sent("remove_from_bridge") == [(bridge_id, [caller])]
    assert (callee, "normal") in lab.ari.sent("hangup")  # the operator's side is released
    lab.hang_up(callee)
    _, target = await lab.dialled(2)
    endpoint = lab.ari.sent("originate")[1][0]
    assert endpoint == "PJSIP/103"
    await lab.until(lambda: lab.ari.sent("ring"))  # ringback to the (answered) caller
    assert lab.manager.live[call_id].callee == "103"
    lab.answer(target)
    await lab.until(lambda: len(lab.ari.sent("add_to_bridge")) == 2)
    assert lab.ari.sent("add_to_bridge")[1] == (bridge_id, [caller, target])
    assert len(lab.ari.sent("create_bridge")) == 1  # one bridge (and recording) for the whole call
    assert lab.manager.live[call_id].state == "up"
    lab.hang_up(target)
    (call,) = await lab.finished()
    assert call.disposition == "answered"
    legs = [(leg.role, leg.endpoint, leg.disposition) for leg in await lab.legs(call)]
    assert legs == [
        ("caller", "PJSIP/101-1", "answered"),
        ("callee", "PJSIP/102", "transferred"),
        ("callee", "PJSIP/103", "answered"),
    ]
    assert lab.event_types(call_id).count("CallAnswered") == 2


async def test_blind_transfer_of_the_callee_releases_the_caller():
    lab = await _lab().start()
    call_id, caller, callee = await _answered(lab)
    await lab.manager.control.transfer(call_id, parse_destination("ext:103"), "callee")
    assert (caller, "normal") in lab.ari.sent("hangup")
    lab.hang_up(caller)
    _, target = await lab.dialled(2)
    endpoint, _, _, caller_id, _, originator = lab.ari.sent("originate")[1]
    assert (endpoint, originator, caller_id) == ("PJSIP/103", callee, '"Phone 102" <102>')
    lab.answer(target)
    await lab.until(lambda: len(lab.ari.sent("add_to_bridge")) == 2)
    assert lab.ari.sent("add_to_bridge")[1][1] == [callee, target]
    lab.hang_up(callee)
    (call,) = await lab.finished()
    legs = {leg.channel_id: leg.disposition for leg in await lab.legs(call)}
    assert legs == {caller: "transferred", callee: "answered", target: "answered"}


async def test_a_transfer_nobody_answers_ends_as_the_destination_says():
    lab = await _lab(ring_timeout=1).start()
    call_id, caller, callee = await _answered(lab)
    await lab.manager.control.transfer(call_id, parse_destination("ext:103"), "caller")
    lab.hang_up(callee)
    await lab.dialled(2)
    (call,) = await lab.finished()
    assert call.disposition == "no_answer"
    assert (caller, "normal") in lab.ari.sent("hangup")  # answered: hung up after the tone


async def test_redirect_stops_the_ringing_and_rings_the_new_destination():
    lab = await _lab().start()
    caller = lab.call("101", "102")
    (ringing,) = await lab.dialled()
    (call_id,) = lab.manager.live
    await lab.until(lambda: lab.manager.live[call_id].state == "ringing")
    await lab.manager.control.redirect(call_id, parse_destination("ext:104"))
    _, target = await lab.dialled(2)
    assert (ringing, "normal") in lab.ari.sent("hangup")
    assert lab.ari.sent("originate")[1][0] == "PJSIP/104"
    lab.answer(target)
    await lab.until(lambda: lab.ari.sent("add_to_bridge"))
    assert lab.ari.sent("add_to_bridge")[0][1] == [caller, target]
    lab.hang_up(caller)
    (call,) = await lab.finished()
    legs = {leg.channel_id: leg.disposition for leg in await lab.legs(call)}
    assert legs == {caller: "answered", ringing: "redirected", target: "answered"}


async def test_hold_takes_the_party_out_of_the_bridge_with_music_and_resume_brings_it_back():
    lab = await _lab().start()
    call_id, caller, callee = await _answered(lab)
    (bridge_id,) = [args[0] for args in lab.ari.sent("create_bridge")]
    await lab.manager.control.hold(call_id, "caller")
    assert lab.ari.sent("remove_from_bridge") == [(bridge_id, [caller])]
    assert lab.ari.sent("start_moh") == [(caller, "default")]
    assert lab.manager.live[call_id].state == "held"
    with pytest.raises(CallNotUp, match="on hold already"):
        await lab.manager.control.hold(call_id, "callee")
    assert await lab.manager.control.resume(call_id) == "caller"
    assert lab.ari.sent("stop_moh") == [(caller,)]
    assert lab.ari.sent("add_to_bridge")[-1] == (bridge_id, [caller])
    assert lab.manager.live[call_id].state == "up"
    with pytest.raises(CallNotUp, match="not on hold"):
        await lab.manager.control.resume(call_id)
    lab.hang_up(callee)
    (call,) = await lab.finished()
    assert call.disposition == "answered"


async def test_a_held_party_hanging_up_ends_the_call():
    lab = await _lab().start()
    call_id, caller, callee = await _answered(lab)
    await lab.manager.control.hold(call_id, "callee")
    lab.hang_up(callee)
    (call,) = await lab.finished()
    assert call.disposition == "answered"
    assert (caller, "normal") in lab.ari.sent("hangup")


async def test_what_the_state_does_not_allow_is_refused_and_nothing_changes():
    lab = await _lab().start()
    lab.call("101", "102")
    await lab.dialled()
    (call_id,) = lab.manager.live
    await lab.until(lambda: lab.manager.live[call_id].state == "ringing")
    control = lab.manager.control
    with pytest.raises(CallNotUp, match=r"not answered.*redirect it instead"):
        await control.transfer(call_id, parse_destination("ext:103"), "caller")
    with pytest.raises(CallNotUp, match="not answered"):
        await control.hold(call_id, "caller")
    with pytest.raises(NotFound, match="no call nope in progress"):
        await control.hang_up("nope")
    assert lab.ari.sent("remove_from_bridge") == [] and lab.ari.sent("start_moh") == []
    for task in lab.manager._tasks:
        task.cancel()


async def test_an_answered_call_is_not_redirected_and_a_party_must_be_caller_or_callee():
    lab = await _lab().start()
    call_id, _, _ = await _answered(lab)
    control = lab.manager.control
    with pytest.raises(CallNotUp, match=r"not ringing.*transfer it instead"):
        await control.redirect(call_id, parse_destination("ext:103"))
    with pytest.raises(InvalidInput, match="caller or callee"):
        await control.transfer(call_id, parse_destination("ext:103"), "operator")
    with pytest.raises(InvalidInput, match="caller or callee"):
        await control.hold(call_id, "both")
    assert lab.ari.sent("remove_from_bridge") == []
    for task in lab.manager._tasks:
        task.cancel()


def _placed(lab: CallLab, call_id: str, number: str, to: str) -> str:
    """Asterisk's side of click-to-call: the rung phone answered, its channel enters our app."""
    channel = lab.ari.sent("originate")[0][1]
    lab.send(
        {
            "type": "StasisStart",
            "args": ["clicktocall", call_id, number, to],
            "channel": {"id": channel, "name": f"PJSIP/{number}-1", "caller": {"number": to, "name": ""}},
        }
    )
    return channel


async def test_click_to_call_rings_the_phone_first_then_calls_from_it():
    lab = await _lab().start()
    call_id = await lab.manager.control.place("102", "103")
    endpoint, _, app_args, caller_id, _, _ = lab.ari.sent("originate")[0]
    assert (endpoint, app_args, caller_id) == ("PJSIP/102", f"clicktocall,{call_id},102,103", '"103" <103>')
    placing = _placed(lab, call_id, "102", "103")
    _, callee = await lab.dialled(2)
    endpoint, _, _, caller_id, _, originator = lab.ari.sent("originate")[1]
    assert (endpoint, caller_id, originator) == ("PJSIP/103", '"Phone 102" <102>', placing)
    await lab.until(lambda: lab.ari.sent("ring"))  # ringback to the answered phone
    assert lab.ari.sent("answer") == []  # it answered already
    lab.answer(callee)
    await lab.until(lambda: lab.ari.sent("add_to_bridge"))
    lab.hang_up(placing)
    (call,) = await lab.finished()
    assert (call.call_id, call.caller, call.callee, call.direction) == (call_id, "102", "103", "internal")
    assert (call.caller_name, call.disposition) == ("Phone 102", "answered")


async def test_click_to_call_applies_the_phones_outbound_permission():
    phones = {"102": ExtensionInfo("102", "Phone 102", outbound=OutboundPermission.INTERNAL)}
    lab = await CallLab(FakeLookups(phones=phones), online=("102",)).start()
    call_id = await lab.manager.control.place("102", "+15551234567")
    _placed(lab, call_id, "102", "+15551234567")
    (call,) = await lab.finished()
    assert (call.direction, call.disposition) == ("outbound", "forbidden")
    assert len(lab.ari.sent("originate")) == 1  # nothing dialled out


async def test_click_to_call_from_a_phone_not_registered_is_refused():
    lab = await _lab().start()
    lab.deps.directory.endpoints["104"] = "offline"
    with pytest.raises(Conflict, match="104 has no phone registered"):
        await lab.manager.control.place("104", "102")
    assert lab.ari.sent("originate") == []
