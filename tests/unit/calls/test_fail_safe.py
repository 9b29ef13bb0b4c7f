"""Whatever fails inside a call, the caller is hung up (503 before the answer) and the record closed;
other calls go on."""

from __future__ import annotations

import pytest

from core.routing.destinations import Destination, DestinationKind
from core.routing.forwarding import ExtensionInfo
from core.routing.ivr import IvrInfo
from core.routing.queues import AgentInfo, QueueInfo, QueueStrategy
from tests.unit.calls.fake_ari import CallLab, FakeLookups

pytestmark = pytest.mark.usefixtures("db")


class Boom(Exception):
    """An unexpected failure inside a step."""


def _lab() -> CallLab:
    phones = {n: ExtensionInfo(n) for n in ("101", "102", "103")}
    lookups = FakeLookups(
        phones=phones,
        menus={"main": IvrInfo("main", "sound:menu", {"1": Destination(DestinationKind.EXTENSION, "102")})},
        queues={"support": QueueInfo("support", QueueStrategy.RING_ALL, (AgentInfo("102"),))},
        owners={
            "500": Destination(DestinationKind.IVR, "main"),
            "600": Destination(DestinationKind.QUEUE, "support"),
        },
    )
    return CallLab(lookups, online=("101", "102", "103"))


async def _failed(lab: CallLab, caller: str, sip_code: int | None = 503):
    (call,) = await lab.finished()
    assert (call.disposition, call.sip_code) == ("failed", sip_code)
    assert {leg.disposition for leg in await lab.legs(call)} == {"failed"}
    assert lab.manager.live == {}
    return call


async def test_a_failing_lookup_hangs_the_caller_up_with_503(monkeypatch):
    lab = await _lab().start()

    async def broken(name):
        raise Boom("database away")

    monkeypatch.setattr(lab.lookups, "number_owner", broken)
    caller = lab.call("101", "199")
    call = await _failed(lab, caller)
    assert (caller, "congestion") in lab.ari.sent("hangup")  # Asterisk answers 503 for congestion
    assert lab.event_types(call.call_id) == ["CallStarted", "CallEnded"]


async def test_a_failure_while_ringing_hangs_up_the_caller_and_the_ringing_leg():
    lab = await _lab().start()
    lab.ari.fail["ring"] = Boom("unexpected")  # not an AriError: a bug
    lab.ari.fail["originate"] = Boom("unexpected")
    caller = lab.call("101", "102")
    await _failed(lab, caller)
    assert (caller, "congestion") in lab.ari.sent("hangup")


async def test_a_failure_in_the_bridge_after_the_answer_hangs_up_both_sides_normally():
    lab = await _lab().start()
    lab.ari.fail["create_bridge"] = Boom("unexpected")
    caller = lab.call("101", "102")
    (callee,) = await lab.dialled()
    lab.answer(callee)
    await _failed(lab, caller)
    hung_up = lab.ari.sent("hangup")
    assert (caller, "congestion") in hung_up  # not yet "up": the caller is told the PBX failed
    assert (callee, "normal") in hung_up


async def test_a_failure_in_an_ivr_menu_ends_the_answered_call(monkeypatch):
    lab = await _lab().start()
    lab.ari.fail["play"] = Boom("unexpected")
    caller = lab.call("101", "500")
    await _failed(lab, caller)
    assert lab.ari.sent("answer") == [(caller,)]


async def test_a_failure_in_a_queue_ends_the_call_and_frees_the_queue():
    lab = await _lab().start()
    lab.ari.fail["start_moh"] = Boom("unexpected")
    caller = lab.call("101", "600")
    await _failed(lab, caller)
    assert lab.manager.queues.snapshot()[0]["waiting"] == []


async def test_a_failure_in_voicemail_closes_the_record():
    lab = await _lab().start()
    lab.ari.fail["record_channel"] = Boom("unexpected")
    lab.lookups.owners["700"] = Destination(DestinationKind.VOICEMAIL, "102")
    caller = lab.call("101", "700")
    await _failed(lab, caller)


async def test_one_failing_call_leaves_the_others_alone(monkeypatch):
    lab = await _lab().start()
    healthy = lab.call("103", "102")
    (callee,) = await lab.dialled()
    lab.answer(callee)
    await lab.until(lambda: lab.ari.sent("add_to_bridge"))

    async def broken(name):
        raise Boom("injected")

    monkeypatch.setattr(lab.lookups, "number_owner", broken)
    lab.call("101", "199")
    await lab.until(lambda: len(lab.manager.live) == 1)
    await lab.until(
        lambda: any(c.disposition == "failed" for c in lab.published if hasattr(c, "disposition"))
    )
    assert [c.state for c in lab.manager.live.values()] == ["up"]  # the bridged call goes on
    lab.hang_up(healthy)
    calls = {c.callee: c.disposition for c in await lab.finished()}
    assert calls == {"102": "answered", "199": "failed"}
