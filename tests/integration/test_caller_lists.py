"""Blacklist, anonymous policy and whitelist rules, proven by real calls from a carrier on 127.0.0.2."""

from __future__ import annotations

import contextlib

import pytest

from core.models import BlacklistEntry, EventRecord
from core.services.auth import SYSTEM
from pbxtest.sipp import SippCarrier, SippPhone, place_carrier_call
from tests.integration.conftest import PASSWORDS

pytestmark = pytest.mark.integration

DID = "+15550001000"


@contextlib.asynccontextmanager
async def routed_to_102(pbx, whitelist_only=False):
    """A carrier trunk, our public number routed to 102, and phones 102 and 103 registered."""
    async with SippCarrier("answer") as carrier:
        await pbx.daemon.trunks.add(SYSTEM, "carrier", carrier.ip, carrier.port, DID)
        await pbx.daemon.trunks.set_route(SYSTEM, DID, "ext:102", whitelist_only)
        async with (
            SippPhone("102", PASSWORDS["102"], pbx.sip_port, "answer") as p102,
            SippPhone("103", PASSWORDS["103"], pbx.sip_port, "answer") as p103,
        ):
            yield p102, p103


def incoming(pbx, caller, scenario="answered_caller_bye", **kw):
    return place_carrier_call(caller, DID, pbx.sip_port, scenario, **kw)


async def test_blacklisted_caller_hears_busy_and_nothing_rings(pbx):
    await pbx.daemon.caller_lists.block(SYSTEM, "+15550000666", note="robocaller")
    await pbx.daemon.caller_lists.block(SYSTEM, "+1900", prefix=True)
    async with routed_to_102(pbx) as (p102, _):
        number = await incoming(pbx, "+15550000666", "expect_failure")
        prefixed = await incoming(pbx, "+19005551234", "expect_failure")
        welcome = await incoming(pbx, "+15557654321", hold_ms=300)
        assert p102.invites_received() == 1  # only the welcome caller rang the phone
    assert (number.final_code, number.codes_seen[-1], prefixed.final_code) == (486, 486, 486)
    assert 180 not in number.codes_seen  # refused before anything rang
    assert welcome.ok, welcome.stderr_tail
    blocked, also_blocked, answered = await pbx.wait_calls(3)
    assert (blocked.disposition, blocked.sip_code, blocked.answered_at) == ("blocked", 486, None)
    assert answered.disposition == "answered"
    assert await pbx.event_types(blocked.call_id) == ["CallStarted", "CallerBlocked", "CallEnded"]
    event = await EventRecord.get(call_id=also_blocked.call_id, type="CallerBlocked")
    assert (event.payload["reason"], event.payload["entry"]) == ("blacklist", "+1900")
    hits = {e.pattern: e.hits for e in await BlacklistEntry.all()}
    assert hits == {"+15550000666": 1, "+1900": 1}


async def test_anonymous_callers_follow_the_policy(pbx):
    async with routed_to_102(pbx) as (p102, p103):
        allowed = await incoming(pbx, None, hold_ms=300)
        await pbx.daemon.caller_lists.set_anonymous_policy(SYSTEM, "busy")
        refused = await incoming(pbx, None, "expect_failure")
        await pbx.daemon.caller_lists.set_anonymous_policy(SYSTEM, "ext:103")
        sent_on = await incoming(pbx, None, hold_ms=300)
        assert (p102.invites_received(), p103.invites_received()) == (1, 1)
    assert allowed.ok and sent_on.ok
    assert refused.final_code == 486
    records = await pbx.wait_calls(3)
    assert [r.disposition for r in records] == ["answered", "blocked", "answered"]
    assert [leg.endpoint for leg in records[2].legs if leg.role == "callee"] == ["PJSIP/103"]


async def test_whitelisted_caller_follows_their_personal_rule(pbx):
    await pbx.daemon.caller_lists.allow(SYSTEM, "+15557654321", destination="ext:103", note="VIP")
    async with routed_to_102(pbx) as (p102, p103):
        vip = await incoming(pbx, "+15557654321", hold_ms=300)
        other = await incoming(pbx, "+15551112222", hold_ms=300)
        assert (p102.invites_received(), p103.invites_received()) == (1, 1)
    assert vip.ok and other.ok
    vip_call, _ = await pbx.wait_calls(2)
    assert [leg.endpoint for leg in vip_call.legs if leg.role == "callee"] == ["PJSIP/103"]
    event = await EventRecord.get(call_id=vip_call.call_id, type="CallRerouted")
    assert (event.payload["reason"], event.payload["destination"]) == ("whitelist", "ext:103")


async def test_whitelist_only_number(pbx):
    await pbx.daemon.caller_lists.allow(SYSTEM, "+15557654321")
    async with routed_to_102(pbx, whitelist_only=True) as (p102, _):
        stranger = await incoming(pbx, "+15551112222", "expect_failure")
        anonymous = await incoming(pbx, None, "expect_failure")
        friend = await incoming(pbx, "+15557654321", hold_ms=300)
        assert p102.invites_received() == 1
    assert (stranger.final_code, anonymous.final_code) == (486, 486)
    assert friend.ok, friend.stderr_tail
    records = await pbx.wait_calls(3)
    reasons = [
        (await EventRecord.get(call_id=r.call_id, type="CallerBlocked")).payload["reason"]
        for r in records[:2]
    ]
    assert reasons == ["not_whitelisted", "anonymous"]
