"""Calls from a trunk against a fake Asterisk: a public number's route, and callers screened first."""

from __future__ import annotations

import pytest

from core.calls import InboundRouteInfo
from core.routing.caller_lists import CallerLists
from core.routing.destinations import Destination, DestinationKind
from core.routing.forwarding import ExtensionInfo
from tests.unit.calls.fake_ari import CallLab, FakeLookups

pytestmark = pytest.mark.usefixtures("db")

DID = "+15550001000"
TO_102 = Destination(DestinationKind.EXTENSION, "102")


def _lab(lists: CallerLists | None = None) -> CallLab:
    lookups = FakeLookups(
        phones={"102": ExtensionInfo("102")},
        routes={DID: InboundRouteInfo(DID, TO_102, whitelist_only=False, recording="never")},
        lists=lists or CallerLists(),
    )
    return CallLab(lookups, online=("102",))


async def test_a_call_to_a_public_number_follows_its_route_and_shows_the_caller_in_e164():
    lab = await _lab().start()
    lab.call("5557654321", "5550001000", inbound=True)  # national forms, read in the PBX's country
    await lab.dialled()
    assert lab.ari.sent("originate")[0][0] == "PJSIP/102"
    assert [c.caller for c in lab.manager.live.values()] == ["+15557654321"]
    lab.hang_up(lab.ari.sent("originate")[0][1], cause=17)
    (call,) = await lab.finished()
    assert (call.caller, call.direction, call.disposition) == ("+15557654321", "inbound", "busy")


async def test_a_number_without_a_route_is_unknown():
    lab = await _lab().start()
    lab.call("+15557654321", "+15559999999", inbound=True)
    (call,) = await lab.finished()
    assert (call.disposition, call.sip_code) == ("unknown_number", 404)


async def test_a_blacklisted_caller_hears_busy_and_the_hit_is_reported():
    lab = await _lab(CallerLists(blacklist=frozenset({"+15557654321"}))).start()
    caller = lab.call("+15557654321", DID, inbound=True)
    (call,) = await lab.finished()
    assert (call.disposition, call.sip_code) == ("blocked", 486)
    assert (caller, "busy") in lab.ari.sent("hangup")
    assert lab.ari.sent("originate") == []
    assert lab.lookups.reported == [("blacklist_hit", "+15557654321")]
    assert lab.event_types(call.call_id) == ["CallStarted", "CallerBlocked", "CallEnded"]
