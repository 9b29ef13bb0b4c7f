"""Queues against a fake Asterisk: an agent answers, nobody is logged in, the caller gives up."""

from __future__ import annotations

import pytest

from core.routing.destinations import Destination, DestinationKind
from core.routing.forwarding import ExtensionInfo
from core.routing.queues import AgentInfo, QueueInfo, QueueStrategy
from tests.unit.calls.fake_ari import CallLab, FakeLookups

pytestmark = pytest.mark.usefixtures("db")


def _lab(*agents: AgentInfo, **queue) -> CallLab:
    phones = {n: ExtensionInfo(n) for n in ("101", "102", "103", "104")}
    info = QueueInfo("support", QueueStrategy.RING_ALL, agents, **queue)
    lookups = FakeLookups(
        phones=phones, queues={"support": info}, owners={"600": Destination(DestinationKind.QUEUE, "support")}
    )
    return CallLab(lookups, online=("101", "102", "103", "104"))


async def test_the_caller_waits_with_music_until_an_agent_answers():
    lab = await _lab(AgentInfo("102"), AgentInfo("103")).start()
    caller = lab.call("101", "600")
    first, second = await lab.dialled(2)  # ring all: both agents at once
    assert lab.ari.sent("start_moh") == [(caller, "default")]
    assert lab.ari.sent("answer") == [(caller,)]
    assert lab.ari.sent("ring") == []  # a queue caller keeps the music, not ringback
    lab.answer(second)
    await lab.until(lambda: lab.ari.sent("add_to_bridge"))
    assert (first, "normal") in lab.ari.sent("hangup")  # the other agent stops ringing
    assert (caller,) in lab.ari.sent("stop_moh")
    lab.hang_up(second)
    (call,) = await lab.finished()
    assert call.disposition == "answered"
    legs = {leg.channel_id: leg.disposition for leg in await lab.legs(call)}
    assert legs[first] == "answered_elsewhere"


async def test_no_agent_logged_in_overflows_before_answering():
    lab = await _lab(
        AgentInfo("102", logged_in=False), overflow=Destination(DestinationKind.EXTENSION, "104")
    ).start()
    lab.call("101", "600")
    (callee,) = await lab.dialled()
    assert lab.ari.sent("originate")[0][0] == "PJSIP/104"
    assert lab.ari.sent("answer") == []  # not answered by the queue
    lab.answer(callee)
    await lab.until(lambda: lab.ari.sent("add_to_bridge"))
    lab.hang_up(callee)
    (call,) = await lab.finished()
    assert call.disposition == "answered"
    assert "CallForwarded" in lab.event_types(call.call_id)


async def test_a_caller_giving_up_leaves_the_queue():
    lab = await _lab(AgentInfo("102")).start()
    caller = lab.call("101", "600")
    await lab.dialled()
    assert [w["caller"] for w in lab.manager.queues.snapshot()[0]["waiting"]] == ["101"]
    lab.hang_up(caller)
    (call,) = await lab.finished()
    assert call.disposition == "cancelled"
    assert lab.manager.queues.snapshot()[0]["waiting"] == []
    await lab.until(lambda: "QueueCallerLeft" in lab.event_types())  # the queue publishes in the background


async def test_a_queue_removed_since_it_was_configured_is_unavailable():
    lab = await _lab(AgentInfo("102")).start()
    del lab.lookups.queues["support"]
    lab.manager.queues.reload("support")
    lab.call("101", "600")
    (call,) = await lab.finished()
    assert (call.disposition, call.sip_code) == ("unavailable", 480)


def _agent(lab: CallLab, number: str) -> dict:
    (queue,) = lab.manager.queues.snapshot()
    return next(a for a in queue["agents"] if a["number"] == number)


async def test_an_agent_whose_call_is_transferred_wraps_up_at_once():
    from core.calls.steps.bridge import CallNotUp
    from core.routing.destinations import parse_destination

    lab = await _lab(AgentInfo("102")).start()
    lab.call("101", "600")
    (agent,) = await lab.dialled()
    lab.answer(agent)
    await lab.until(lambda: lab.ari.sent("add_to_bridge"))
    (call_id,) = lab.manager.live
    with pytest.raises(CallNotUp, match="its agent stays"):
        await lab.manager.control.transfer(call_id, parse_destination("ext:103"), "callee")
    await lab.manager.control.transfer(call_id, parse_destination("ext:103"), "caller")
    lab.hang_up(agent)
    _, target = await lab.dialled(2)
    await lab.until(lambda: _agent(lab, "102")["calls"] == 1)  # counted and wrapping up, not talking
    assert _agent(lab, "102")["state"] != "talking"
    lab.answer(target)
    await lab.until(lambda: len(lab.ari.sent("add_to_bridge")) == 2)
    assert _agent(lab, "102")["calls"] == 1
    lab.hang_up(target)
    (call,) = await lab.finished()
    assert call.disposition == "answered"
    assert _agent(lab, "102")["calls"] == 1  # once, not again when the transferred call ended
