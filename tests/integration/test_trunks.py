"""Calls to and from the outside through a SIP trunk: a sipp "carrier" on 127.0.0.2, real Asterisk."""

from __future__ import annotations

import contextlib

import pytest

from core.services.auth import SYSTEM
from pbxtest.sipp import SippCarrier, SippPhone, place_call, place_carrier_call
from tests.integration.conftest import PASSWORDS

pytestmark = pytest.mark.integration

DID = "+15550001000"  # our public number
OUTSIDE = "+15557654321"  # somebody calling us


@contextlib.asynccontextmanager
async def carrier_trunk(pbx, behaviour="answer"):
    """A carrier on 127.0.0.2 and our trunk to it."""
    async with SippCarrier(behaviour) as carrier:
        await pbx.daemon.trunks.add(SYSTEM, "carrier", carrier.ip, carrier.port, DID)
        yield carrier


def outbound(pbx, dialled, scenario, caller="101", **kw):
    return place_call(caller, PASSWORDS[caller], dialled, pbx.sip_port, scenario, **kw)


async def test_inbound_call_to_a_public_number_rings_its_extension(pbx):
    async with carrier_trunk(pbx):
        await pbx.daemon.trunks.set_route(SYSTEM, DID, "ext:102")
        async with SippPhone("102", PASSWORDS["102"], pbx.sip_port, "answer") as p102:
            result = await place_carrier_call(OUTSIDE, DID, pbx.sip_port, "answered_caller_bye", hold_ms=500)
            assert result.ok, result.stderr_tail
            assert OUTSIDE in p102.message_log()  # the phone shows who calls from outside
    (record,) = await pbx.wait_calls(1)
    assert (record.direction, record.caller, record.callee) == ("inbound", OUTSIDE, DID)
    assert record.disposition == "answered"
    assert [leg.endpoint for leg in record.legs if leg.role == "callee"] == ["PJSIP/102"]


async def test_inbound_call_follows_the_extensions_forwarding(pbx):
    async with carrier_trunk(pbx):
        await pbx.daemon.trunks.set_route(SYSTEM, DID, "ext:102")
        await pbx.daemon.forwarding.set(SYSTEM, "102", "unavailable", "ext:103")
        async with SippPhone("103", PASSWORDS["103"], pbx.sip_port, "answer"):
            result = await place_carrier_call(OUTSIDE, DID, pbx.sip_port, "answered_caller_bye", hold_ms=300)
            assert result.ok, result.stderr_tail
    (record,) = await pbx.wait_calls(1)
    assert [leg.endpoint for leg in record.legs if leg.role == "callee"] == ["PJSIP/103"]


async def test_inbound_call_to_an_unrouted_number_is_not_found(pbx):
    async with carrier_trunk(pbx):
        result = await place_carrier_call(OUTSIDE, "+15550009999", pbx.sip_port, "expect_failure")
    assert result.ok and result.final_code == 404
    (record,) = await pbx.wait_calls(1)
    assert (record.direction, record.disposition) == ("inbound", "unknown_number")


async def test_anonymous_inbound_caller(pbx):
    async with carrier_trunk(pbx):
        await pbx.daemon.trunks.set_route(SYSTEM, DID, "ext:102")
        async with SippPhone("102", PASSWORDS["102"], pbx.sip_port, "answer"):
            result = await place_carrier_call(None, DID, pbx.sip_port, "answered_caller_bye", hold_ms=300)
            assert result.ok, result.stderr_tail
    (record,) = await pbx.wait_calls(1)
    assert record.caller == "anonymous"


async def test_outbound_call_reaches_the_carrier_with_our_caller_id(pbx):
    async with carrier_trunk(pbx) as carrier:
        result = await outbound(pbx, "+15551234567", "answered_caller_bye", hold_ms=500)
        assert result.ok, result.stderr_tail
        national = await outbound(pbx, "5551234568", "answered_caller_bye", hold_ms=300)  # dialled nationally
        assert national.ok, national.stderr_tail
        invites = await carrier.wait_invites(2)
    assert [(i.uri_user, i.from_user) for i in invites] == [("+15551234567", DID), ("+15551234568", DID)]
    first, _ = await pbx.wait_calls(2)
    assert (first.direction, first.caller, first.callee, first.disposition) == (
        "outbound",
        "101",
        "+15551234567",
        "answered",
    )
    assert [leg.endpoint for leg in first.legs if leg.role == "callee"] == [
        "PJSIP/trunk-carrier/+15551234567"
    ]


async def test_outbound_permissions_and_own_caller_id(pbx):
    async with carrier_trunk(pbx) as carrier:
        refused = await outbound(pbx, "+442079460000", "expect_failure")  # 101 may call nationally only
        assert refused.ok and refused.final_code == 403
        assert carrier.invites() == []  # nothing left the PBX
        await pbx.daemon.extensions.update(
            SYSTEM, "101", outbound="international", external_caller_id="+15550001099"
        )
        allowed = await outbound(pbx, "+442079460000", "answered_caller_bye", hold_ms=300)
        assert allowed.ok, allowed.stderr_tail
        await pbx.daemon.extensions.update(SYSTEM, "102", outbound="internal")
        internal_only = await outbound(pbx, "+15551234567", "expect_failure", caller="102")
        assert internal_only.ok and internal_only.final_code == 403
        invites = carrier.invites()
    assert [(i.uri_user, i.from_user) for i in invites] == [("+442079460000", "+15550001099")]
    records = await pbx.wait_calls(3)
    assert [(r.disposition, r.sip_code) for r in records] == [
        ("forbidden", 403),
        ("answered", None),
        ("forbidden", 403),
    ]


async def test_outbound_busy_and_invalid_and_no_trunk(pbx):
    no_trunk = await outbound(pbx, "+15551234567", "expect_failure")
    assert no_trunk.ok and no_trunk.final_code == 503
    async with carrier_trunk(pbx, "busy"):
        busy = await outbound(pbx, "+15551234567", "expect_failure")
        assert busy.ok and busy.final_code == 486
        invalid = await outbound(pbx, "+1555", "expect_failure")
        assert invalid.ok and invalid.final_code == 484
    records = await pbx.wait_calls(3)
    assert [r.disposition for r in records] == ["no_route", "busy", "invalid_number"]
