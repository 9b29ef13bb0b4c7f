"""A phone's own transfer key (SIP REFER, an ARI ChannelTransfer event) against a fake Asterisk: blind
and attended (Replaces) carried out, and every case a phone must be told no, keeping its call."""

from __future__ import annotations

from typing import Any

import pytest

from core.routing import TrunkInfo
from core.routing.forwarding import ExtensionInfo
from core.routing.outbound import OutboundPermission
from tests.unit.calls.fake_ari import CallLab, FakeLookups
from tests.unit.calls.test_call_control import _answered

pytestmark = pytest.mark.usefixtures("db")

TRUNK = TrunkInfo("carrier", "203.0.113.10", 5060, "+15550001000")


def _lab(
    outbound: OutboundPermission = OutboundPermission.NATIONAL, trunk: TrunkInfo | None = TRUNK
) -> CallLab:
    phones = {n: ExtensionInfo(n, f"Phone {n}", outbound=outbound) for n in ("101", "102", "103", "104")}
    return CallLab(FakeLookups(phones=phones, trunk=trunk), online=("101", "102", "103", "104"))


def refer(source: str, name: str, destination: str, replaced: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ChannelTransfer event of a REFER that came in on channel `source` (named `name`)."""
    refer_to: dict[str, Any] = {"requested_destination": {"destination": destination}}
    if replaced is not None:
        refer_to |= {"destination_channel": replaced}
    return {
        "type": "ChannelTransfer",
        "refer_to": refer_to,
        "referred_by": {"source_channel": {"id": source, "name": name}},
    }


async def test_blind_the_other_side_goes_to_the_number_and_the_phone_is_released():
    lab = await _lab().start()
    call_id, caller, operator = await _answered(lab)
    lab.send(refer(operator, "PJSIP/102-00000001", "103"))
    await lab.until(lambda: (operator, "normal") in lab.ari.sent("hangup"))
    assert lab.ari.sent("transfer_progress") == [(operator, "channel_answered")]  # before the release
    assert lab.ari.requests.index(("transfer_progress", (operator, "channel_answered"))) < (
        lab.ari.requests.index(("hangup", (operator, "normal")))
    )
    lab.hang_up(operator)
    (_, target) = await lab.dialled(2)
    assert lab.ari.sent("originate")[-1][0] == "PJSIP/103"
    lab.answer(target)
    await lab.until(
        lambda: (
            lab.manager.live[call_id].state == "up"
            and lab.ari.sent("add_to_bridge")[-1][1] == [caller, target]
        )
    )
    lab.hang_up(target)
    (call,) = await lab.finished()
    legs = {leg.channel_id: leg.disposition for leg in await lab.legs(call)}
    assert legs == {caller: "answered", operator: "transferred", target: "answered"}
    (done,) = [e for e in lab.published if type(e).__name__ == "CallTransferred"]
    assert (done.stage, done.actor, done.party, done.destination) == ("blind", "phone", "caller", "ext:103")


async def test_blind_from_the_caller_sends_the_callee_on():
    lab = await _lab().start()
    _, caller, _ = await _answered(lab)
    lab.send(refer(caller, "PJSIP/101-00000000", "104"))
    await lab.until(lambda: (caller, "normal") in lab.ari.sent("hangup"))
    lab.hang_up(caller)
    await lab.dialled(2)
    assert lab.ari.sent("originate")[-1][0] == "PJSIP/104"
    await lab.until(
        lambda: any(type(e).__name__ == "CallTransferred" for e in lab.published)
    )  # written alongside
    (done,) = [e for e in lab.published if type(e).__name__ == "CallTransferred"]
    assert (done.party, done.destination) == ("callee", "ext:104")


async def test_the_progress_asterisk_echoes_and_the_second_copy_of_the_event_are_not_new_transfers():
    lab = await _lab().start()
    _, _, operator = await _answered(lab)
    event = refer(operator, "PJSIP/102-00000001", "103") | {"timestamp": "2026-12-02T10:00:01.000+0000"}
    lab.send(dict(event))
    lab.send(dict(event))  # once for our app, once for the endpoint subscription
    lab.send(event | {"state": "channel_answered", "timestamp": "2026-12-02T10:00:01.100+0000"})
    await lab.until(lambda: (operator, "normal") in lab.ari.sent("hangup"))
    lab.hang_up(operator)
    await lab.dialled(2)
    assert lab.ari.sent("transfer_progress") == [(operator, "channel_answered")]
    assert len(lab.ari.sent("originate")) == 2


@pytest.mark.parametrize(
    ("name", "destination", "outbound", "trunk"),
    [
        ("PJSIP/102-00000001", "199", OutboundPermission.NATIONAL, TRUNK),  # no such number
        ("PJSIP/102-00000001", "*8", OutboundPermission.NATIONAL, TRUNK),  # a feature code
        ("PJSIP/102-00000001", "+442079460000", OutboundPermission.NATIONAL, TRUNK),  # beyond its permission
        ("PJSIP/102-00000001", "+15551234567", OutboundPermission.INTERNAL, TRUNK),
        ("PJSIP/102-00000001", "+15551234567", OutboundPermission.NATIONAL, None),  # no trunk
        ("PJSIP/102-00000001", "not a number", OutboundPermission.NATIONAL, TRUNK),
        ("PJSIP/trunk-carrier-00000001", "103", OutboundPermission.NATIONAL, TRUNK),  # a carrier's REFER
    ],
)
async def test_a_transfer_the_phone_may_not_make_is_declined_and_the_call_goes_on(
    name, destination, outbound, trunk
):
    lab = await _lab(outbound, trunk).start()
    call_id, caller, operator = await _answered(lab)
    lab.send(refer(operator, name, destination))
    await lab.until(lambda: lab.ari.sent("transfer_progress"))
    assert lab.ari.sent("transfer_progress") == [(operator, "channel_declined")]
    assert lab.ari.sent("hangup") == [] and len(lab.ari.sent("originate")) == 1
    assert lab.manager.live[call_id].state == "up"
    lab.hang_up(caller)
    (call,) = await lab.finished()
    assert call.disposition == "answered" and "CallTransferred" not in lab.event_types()


async def test_an_outside_number_within_the_phones_permission_is_dialled_out():
    lab = await _lab(OutboundPermission.NATIONAL).start()
    _, _, operator = await _answered(lab)
    lab.send(refer(operator, "PJSIP/102-00000001", "5551234567"))  # national form
    await lab.until(lambda: (operator, "normal") in lab.ari.sent("hangup"))
    lab.hang_up(operator)
    await lab.dialled(2)
    assert lab.ari.sent("originate")[-1][0] == "PJSIP/trunk-carrier/sip:+15551234567@203.0.113.10:5060"
    (done,) = [e for e in lab.published if type(e).__name__ == "CallTransferred"]
    assert done.destination == "external:+15551234567"


async def test_a_refer_on_a_call_not_answered_is_declined_at_once():
    lab = await _lab().start()
    lab.call("101", "102")
    (ringing,) = await lab.dialled()
    lab.send(refer(ringing, "PJSIP/102-00000001", "103"))
    await lab.until(lambda: lab.ari.sent("transfer_progress"))
    assert lab.ari.sent("transfer_progress") == [(ringing, "channel_declined")]
    lab.send(refer("unknown-channel", "PJSIP/104-00000009", "103"))
    await lab.until(lambda: len(lab.ari.sent("transfer_progress")) == 2)
    assert lab.ari.sent("transfer_progress")[-1] == ("unknown-channel", "channel_declined")


async def _two_calls(lab: CallLab) -> tuple[tuple[str, str, str], tuple[str, str, str]]:
    """101 → 102 answered, then 102 → 103 answered: (call id, caller, callee) of each."""
    first = await _answered(lab)
    lab.call("102", "103")
    (_, target) = await lab.dialled(2)
    lab.answer(target)
    await lab.until(lambda: len([c for c in lab.manager.live.values() if c.state == "up"]) == 2)
    (second_id,) = [c for c in lab.manager.live if c != first[0]]
    second_caller = lab.manager.live[second_id].channels[0]
    return first, (second_id, second_caller, target)


async def test_attended_the_two_far_ends_talk_in_the_first_call_and_the_second_ends_transferred():
    lab = await _lab().start()
    (first_id, caller, operator), (second_id, line2, target) = await _two_calls(lab)
    first_bridge, second_bridge = (f"pbx-bridge-{first_id}", f"pbx-bridge-{second_id}")
    lab.send(refer(operator, "PJSIP/102-00000001", "103", {"id": line2, "name": "PJSIP/102-00000002"}))
    await lab.until(lambda: (line2, "normal") in lab.ari.sent("hangup"))
    assert lab.ari.sent("transfer_progress") == [(operator, "channel_answered")]
    assert (second_bridge, [target]) in lab.ari.sent("remove_from_bridge")
    assert lab.ari.sent("add_to_bridge")[-1] == (first_bridge, [target])
    assert (operator, "normal") in lab.ari.sent("hangup")
    assert (target, "normal") not in lab.ari.sent("hangup")  # moved, not hung up
    lab.hang_up(operator)
    lab.hang_up(line2)
    await lab.until(lambda: second_id not in lab.manager.live)
    assert lab.manager.live[first_id].state == "up"
    lab.hang_up(target)  # now the first call's callee: its end ends the first call
    first, second = await lab.finished()
    assert {leg.channel_id: leg.disposition for leg in await lab.legs(first)} == {
        caller: "answered",
        operator: "transferred",
        target: "answered",
    }
    assert {leg.channel_id: leg.disposition for leg in await lab.legs(second)} == {
        line2: "transferred",
        target: "transferred",
    }
    assert (first.disposition, second.disposition) == ("answered", "answered")
    (done,) = [e for e in lab.published if type(e).__name__ == "CallTransferred"]
    assert (done.call_id, done.stage, done.party, done.destination) == (
        first_id,
        "completed",
        "caller",
        "ext:103",
    )


async def test_attended_joining_another_phones_call_is_declined():
    lab = await _lab().start()
    (first_id, _, operator), (second_id, line2, _) = await _two_calls(lab)
    lab.send(refer(operator, "PJSIP/102-00000001", "103", {"id": line2, "name": "PJSIP/104-00000002"}))
    await lab.until(lambda: lab.ari.sent("transfer_progress"))
    assert lab.ari.sent("transfer_progress") == [(operator, "channel_declined")]
    lab.send(refer(operator, "PJSIP/102-00000001", "103", {"id": "gone", "name": "PJSIP/102-00000009"}))
    await lab.until(lambda: len(lab.ari.sent("transfer_progress")) == 2)
    assert lab.ari.sent("transfer_progress")[-1] == (operator, "channel_declined")
    assert lab.ari.sent("hangup") == []
    assert {lab.manager.live[first_id].state, lab.manager.live[second_id].state} == {"up"}


async def test_attended_where_the_phone_answered_its_second_call_joins_that_calls_caller():
    lab = await _lab().start()
    first_id, caller, operator = await _answered(lab)  # 101 → 102
    second_caller = lab.call("103", "102")  # 103 → 102, answered on the phone's second line
    (_, line2) = await lab.dialled(2)
    lab.answer(line2)
    await lab.until(lambda: len([c for c in lab.manager.live.values() if c.state == "up"]) == 2)
    lab.send(refer(line2, "PJSIP/102-00000002", "101", {"id": operator, "name": "PJSIP/102-00000001"}))
    await lab.until(lambda: (operator, "normal") in lab.ari.sent("hangup"))
    (second_id,) = [c for c in lab.manager.live if c != first_id]  # the call the REFER came in on goes on
    assert lab.ari.sent("add_to_bridge")[-1] == (f"pbx-bridge-{second_id}", [caller])
    lab.hang_up(operator)
    lab.hang_up(line2)
    await lab.until(lambda: first_id not in lab.manager.live)
    lab.hang_up(second_caller)
    first, second = await lab.finished()
    assert {leg.channel_id: leg.disposition for leg in await lab.legs(first)} == {
        caller: "transferred",
        operator: "transferred",
    }
    assert {leg.channel_id: leg.disposition for leg in await lab.legs(second)} == {
        second_caller: "answered",
        line2: "transferred",
        caller: "answered",
    }
    (done,) = [e for e in lab.published if type(e).__name__ == "CallTransferred"]
    assert (done.call_id, done.party, done.destination) == (second_id, "caller", "ext:101")
    assert (caller, "normal") in lab.ari.sent("hangup")  # 103 hung up: the PBX hangs up 101, now its callee
