"""Groups, forwards and schedules through the one routing loop, against a fake Asterisk."""

from __future__ import annotations

import pytest

from core.routing import ExtensionInfo, ForwardCondition, ForwardRule
from core.routing.destinations import Destination, DestinationKind
from core.routing.groups import GroupInfo, GroupMemberInfo, RingStrategy
from core.routing.schedules import ScheduleInfo
from tests.unit.calls.fake_ari import CallLab, FakeLookups

pytestmark = pytest.mark.usefixtures("db")

SALES = Destination(DestinationKind.GROUP, "sales")


def _phones() -> dict[str, ExtensionInfo]:
    return {n: ExtensionInfo(n) for n in ("101", "102", "103", "104")}


def _group(strategy: RingStrategy, fallback: Destination | None = None) -> GroupInfo:
    members = (GroupMemberInfo("102"), GroupMemberInfo("103"))
    return GroupInfo("sales", strategy, member_timeout=1, timeout=5, fallback=fallback, members=members)


def _hunt_group() -> FakeLookups:
    return FakeLookups(phones=_phones(), groups={"sales": _group(RingStrategy.HUNT)}, owners={"300": SALES})


async def test_a_hunt_group_rings_its_members_one_after_the_other_and_the_second_answers():
    lookups = FakeLookups(
        phones=_phones(), groups={"sales": _group(RingStrategy.HUNT)}, owners={"300": SALES}
    )
    lab = await CallLab(lookups, online=("101", "102", "103")).start()
    caller = lab.call("101", "300")
    (first,) = await lab.dialled(1)
    assert lab.ari.sent("originate")[0][0] == "PJSIP/102"
    second = (await lab.dialled(2))[1]  # 102 rang out after its member timeout
    assert lab.ari.sent("originate")[1][0] == "PJSIP/103"
    assert (first, "normal") in lab.ari.sent("hangup")
    lab.answer(second)
    await lab.until(lambda: lab.ari.sent("add_to_bridge"))
    lab.hang_up(caller)
    (call,) = await lab.finished()
    assert call.disposition == "answered"
    assert lab.lookups.reported == [("group_started", "sales")]


async def test_nobody_in_the_group_answering_goes_to_its_fallback():
    group = _group(RingStrategy.RING_ALL, fallback=Destination(DestinationKind.EXTENSION, "104"))
    group = GroupInfo(group.name, group.strategy, 1, 1, group.fallback, group.members)
    lookups = FakeLookups(phones=_phones(), groups={"sales": group}, owners={"300": SALES})
    lab = await CallLab(lookups, online=("101", "102", "103", "104")).start()
    lab.call("101", "300")
    await lab.dialled(2)  # ring all: 102 and 103 together
    fallback = (await lab.dialled(3))[2]
    assert lab.ari.sent("originate")[2][0] == "PJSIP/104"
    lab.hang_up(fallback, cause=17)
    (call,) = await lab.finished()
    assert (call.disposition, call.sip_code) == ("busy", 486)
    assert "CallForwarded" in lab.event_types(call.call_id)


async def test_a_group_with_nobody_registered_is_unavailable_at_once():
    lookups = FakeLookups(
        phones=_phones(), groups={"sales": _group(RingStrategy.HUNT)}, owners={"300": SALES}
    )
    lab = await CallLab(lookups, online=("101",)).start()
    lab.call("101", "300")
    (call,) = await lab.finished()
    assert (call.disposition, call.sip_code) == ("unavailable", 480)
    assert lab.ari.sent("originate") == []


async def test_forwards_that_come_back_round_end_the_call():
    phones = _phones()
    to_103, to_102 = (
        Destination(DestinationKind.EXTENSION, "103"),
        Destination(DestinationKind.EXTENSION, "102"),
    )
    phones["102"] = ExtensionInfo("102", forwarding={ForwardCondition.ALWAYS: ForwardRule(to_103)})
    phones["103"] = ExtensionInfo("103", forwarding={ForwardCondition.ALWAYS: ForwardRule(to_102)})
    lab = await CallLab(FakeLookups(phones=phones), online=("101", "102", "103")).start()
    lab.call("101", "102")
    (call,) = await lab.finished()
    assert (call.disposition, call.sip_code) == ("unavailable", 480)
    assert lab.ari.sent("originate") == []  # a loop rings nobody
    assert lab.event_types(call.call_id).count("CallForwarded") == 2


async def test_a_schedule_sends_the_call_to_its_open_or_closed_destination():
    to_102, busy = Destination(DestinationKind.EXTENSION, "102"), Destination(DestinationKind.BUSY)
    closed = ScheduleInfo("office", "UTC", (), frozenset(), open_destination=to_102, closed_destination=busy)
    lookups = FakeLookups(phones=_phones(), schedules={"office": closed})
    lookups.owners["400"] = Destination(DestinationKind.SCHEDULE, "office")
    lab = await CallLab(lookups, online=("101",)).start()
    caller = lab.call("101", "400")
    (call,) = await lab.finished()
    assert (call.disposition, call.sip_code) == ("busy", 486)  # closed (no opening hours): busy
    assert (caller, "busy") in lab.ari.sent("hangup")
    assert "CallRerouted" in lab.event_types(call.call_id)


async def test_a_group_removed_since_it_was_configured_is_unavailable():
    lab = await CallLab(FakeLookups(phones=_phones(), owners={"300": SALES}), online=("101",)).start()
    lab.call("101", "300")
    (call,) = await lab.finished()
    assert (call.disposition, call.sip_code) == ("unavailable", 480)
