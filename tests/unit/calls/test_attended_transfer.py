"""Attended transfer against a fake Asterisk: the party waits on hold while the operator consults the
destination in the call's bridge; completed (by the API or by the operator hanging up), cancelled, or
ended by the destination or the held party."""

from __future__ import annotations

import pytest

from core.calls.steps.bridge import CallNotUp
from core.errors import InvalidInput
from core.routing.destinations import parse_destination
from core.routing.forwarding import ExtensionInfo
from tests.unit.calls.fake_ari import CallLab, FakeLookups
from tests.unit.calls.test_call_control import _answered

pytestmark = pytest.mark.usefixtures("db")


def _lab() -> CallLab:
    phones = {n: ExtensionInfo(n, f"Phone {n}") for n in ("101", "102", "103")}
    return CallLab(FakeLookups(phones=phones), online=("101", "102", "103"))


async def _consulting(lab: CallLab, answer: bool = True) -> tuple[str, str, str, str, str]:
    """101 calls 102, who consults 103 about it: (call id, bridge, caller, operator, destination)."""
    call_id, caller, operator = await _answered(lab)
    (bridge,) = [args[0] for args in lab.ari.sent("create_bridge")]
    await lab.manager.control.transfer(call_id, parse_destination("ext:103"), "caller", attended=True)
    assert lab.ari.sent("remove_from_bridge") == [(bridge, [caller])]
    assert lab.ari.sent("start_moh") == [(caller, "default")]  # the caller waits with music
    endpoint, consult, _, caller_id, _, originator = lab.ari.sent("originate")[-1]
    assert (endpoint, caller_id, originator) == ("PJSIP/103", '"Phone 102" <102>', operator)
    assert lab.manager.live[call_id].state == "held"
    if answer:
        lab.answer(consult)
        await lab.until(lambda: lab.ari.sent("add_to_bridge")[-1] == (bridge, [consult]))
    return call_id, bridge, caller, operator, consult


async def test_completed_the_caller_talks_to_the_destination_and_the_operator_is_released():
    lab = await _lab().start()
    call_id, bridge, caller, operator, consult = await _consulting(lab)
    assert await lab.manager.control.complete_transfer(call_id) == ("ext:103", "caller")
    assert lab.ari.sent("stop_moh") == [(caller,)]
    assert lab.ari.sent("add_to_bridge")[-1] == (bridge, [caller])
    assert (operator, "normal") in lab.ari.sent("hangup")
    assert lab.manager.live[call_id].state == "up"
    lab.hang_up(operator)
    lab.hang_up(consult)
    (call,) = await lab.finished()
    legs = {leg.channel_id: leg.disposition for leg in await lab.legs(call)}
    assert legs == {caller: "answered", operator: "transferred", consult: "answered"}
    assert (caller, "normal") in lab.ari.sent("hangup")  # the destination hung up: the caller too


async def test_the_operator_hanging_up_completes_the_transfer():
    lab = await _lab().start()
    call_id, bridge, caller, operator, consult = await _consulting(lab)
    lab.hang_up(operator)
    await lab.until(lambda: lab.ari.sent("add_to_bridge")[-1] == (bridge, [caller]))
    assert lab.manager.live[call_id].state == "up"
    lab.hang_up(caller)
    (call,) = await lab.finished()
    assert (consult, "normal") in lab.ari.sent("hangup")
    legs = {leg.channel_id: leg.disposition for leg in await lab.legs(call)}
    assert legs == {caller: "answered", operator: "transferred", consult: "answered"}
    (done,) = [e for e in lab.published if type(e).__name__ == "CallTransferred"]
    assert (done.stage, done.actor, done.destination) == ("completed", "phone", "ext:103")


async def test_cancelled_the_destination_is_hung_up_and_the_caller_is_back():
    lab = await _lab().start()
    call_id, bridge, caller, operator, consult = await _consulting(lab)
    assert await lab.manager.control.cancel_transfer(call_id) == ("ext:103", "caller")
    assert (consult, "normal") in lab.ari.sent("hangup")
    assert lab.ari.sent("add_to_bridge")[-1] == (bridge, [caller])
    lab.hang_up(consult)  # Asterisk reports it gone: the call goes on
    lab.hang_up(operator)
    (call,) = await lab.finished()
    legs = {leg.channel_id: leg.disposition for leg in await lab.legs(call)}
    assert legs == {caller: "answered", operator: "answered", consult: "cancelled"}


async def test_a_destination_that_does_not_answer_brings_the_caller_back():
    lab = await _lab().start()
    call_id, bridge, caller, _operator, consult = await _consulting(lab, answer=False)
    with pytest.raises(CallNotUp, match="103 has not answered yet"):
        await lab.manager.control.complete_transfer(call_id)
    lab.hang_up(consult, cause=19)  # rang out
    await lab.until(lambda: lab.ari.sent("add_to_bridge")[-1] == (bridge, [caller]))
    assert lab.manager.live[call_id].state == "up"
    lab.hang_up(caller)
    (call,) = await lab.finished()
    legs = {leg.channel_id: leg.disposition for leg in await lab.legs(call)}
    assert legs[consult] == "no_answer"


async def test_the_held_caller_hanging_up_ends_the_call_and_the_consultation():
    lab = await _lab().start()
    _, _, caller, operator, consult = await _consulting(lab)
    lab.hang_up(caller)
    (call,) = await lab.finished()
    assert {(operator, "normal"), (consult, "normal")} <= set(lab.ari.sent("hangup"))
    assert call.disposition == "answered"


async def test_only_numbers_are_consulted_and_one_transfer_at_a_time():
    lab = await _lab().start()
    call_id, _, _ = await _answered(lab)
    control = lab.manager.control
    with pytest.raises(InvalidInput, match="consults a number"):
        await control.transfer(call_id, parse_destination("group:sales"), "caller", attended=True)
    with pytest.raises(CallNotUp, match="no transfer in progress"):
        await control.complete_transfer(call_id)
    await control.transfer(call_id, parse_destination("ext:103"), "caller", attended=True)
    with pytest.raises(CallNotUp, match="attended transfer in progress"):
        await control.transfer(call_id, parse_destination("ext:103"), "caller", attended=True)
    with pytest.raises(CallNotUp, match="attended transfer in progress"):
        await control.resume(call_id)  # resuming would put the caller with the destination
    with pytest.raises(CallNotUp, match="attended transfer in progress"):
        await control.transfer(call_id, parse_destination("ext:101"), "caller")
    for task in lab.manager._tasks:
        task.cancel()
