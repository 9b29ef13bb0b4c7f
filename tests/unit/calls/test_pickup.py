"""Call pickup by feature code against a fake Asterisk: `*8` takes a call ringing in the picker's group,
`**NUMBER` the call ringing at that number; with nothing to take, the phone gets 404."""

from __future__ import annotations

import pytest

from core.routing.forwarding import ExtensionInfo
from core.routing.groups import GroupInfo, GroupMemberInfo, RingStrategy
from core.routing.pickup import Pickup, pickup_request
from tests.unit.calls.fake_ari import CallLab, FakeLookups

pytestmark = pytest.mark.usefixtures("db")


def _lab() -> CallLab:
    phones = {n: ExtensionInfo(n, f"Phone {n}") for n in ("101", "102", "103", "104")}
    sales = GroupInfo(
        "sales", RingStrategy.RING_ALL, 15, 60, None, (GroupMemberInfo("102"), GroupMemberInfo("103"))
    )
    return CallLab(FakeLookups(phones=phones, groups={"sales": sales}), online=tuple(phones))


@pytest.mark.parametrize(
    ("dialled", "request_"),
    [("*8", Pickup()), ("**101", Pickup("101")), ("**1", None), ("*9", None), ("101", None), ("**", None)],
)
def test_which_codes_ask_for_a_pickup(dialled, request_):
    assert pickup_request(dialled, "*8", "**") == request_


async def _ringing(lab: CallLab) -> tuple[str, str, str]:
    caller = lab.call("101", "102")
    (ringing,) = await lab.dialled()
    (call_id,) = lab.manager.live
    await lab.until(lambda: lab.manager.live[call_id].state == "ringing")
    return call_id, caller, ringing


@pytest.mark.parametrize(("picker", "code"), [("103", "*8"), ("104", "**102")])
async def test_a_phone_picks_up_a_call_ringing_elsewhere(picker, code):
    lab = await _lab().start()
    call_id, caller, ringing = await _ringing(lab)
    picking = lab.call(picker, code)
    await lab.until(lambda: lab.ari.sent("add_to_bridge"))
    assert (ringing, "normal") in lab.ari.sent("hangup")  # 102 stops ringing
    assert lab.ari.sent("answer") == [(picking,), (caller,)]
    assert lab.ari.sent("add_to_bridge")[0][1] == [caller, picking]
    assert len(lab.manager.live) == 1  # no call of its own
    lab.hang_up(picking)
    (call,) = await lab.finished()
    assert (call.call_id, call.disposition) == (call_id, "answered")
    legs = {leg.endpoint: leg.disposition for leg in await lab.legs(call) if leg.role == "callee"}
    assert legs == {"PJSIP/102": "answered_elsewhere", f"PJSIP/{picker}": "answered"}
    (picked,) = [e for e in lab.published if type(e).__name__ == "CallPickedUp"]
    assert (picked.number, picked.call_id) == (picker, call_id)


async def test_group_pickup_takes_only_calls_of_the_pickers_group_and_else_404():
    lab = await _lab().start()
    await _ringing(lab)
    outsider = lab.call("104", "*8")  # 104 is in no group
    await lab.until(lambda: (outsider, "unallocated") in lab.ari.sent("hangup"))
    assert lab.ari.sent("add_to_bridge") == []
    for task in lab.manager._tasks:
        task.cancel()


async def test_directed_pickup_of_a_number_nothing_rings_at_gets_404():
    lab = await _lab().start()
    picking = lab.call("104", "**103")
    await lab.until(lambda: (picking, "unallocated") in lab.ari.sent("hangup"))
    assert await lab.finished() == []  # no call record
