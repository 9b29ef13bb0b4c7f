"""Forwarding and do-not-disturb, proven by real SIP calls through Asterisk and our Stasis app."""

from __future__ import annotations

import asyncio

import pytest

from core.services.auth import SYSTEM
from pbxtest.sipp import SippCarrier, SippPhone, place_call
from tests.integration.conftest import PASSWORDS

pytestmark = pytest.mark.integration


def phone(pbx, number, behaviour="answer"):
    return SippPhone(number, PASSWORDS[number], pbx.sip_port, behaviour)


def call(pbx, dialled, scenario, **kw):
    return place_call("101", PASSWORDS["101"], dialled, pbx.sip_port, scenario, **kw)


def callee_legs(record):
    return [
        (leg.endpoint, leg.disposition)
        for leg in sorted(record.legs, key=lambda g: g.started_at)
        if leg.role == "callee"
    ]


def forwarded_events(pbx, call_id):
    return [
        (e.number, e.condition, e.destination)
        for e in pbx.events
        if e.type == "CallForwarded" and e.call_id == call_id
    ]


async def test_unconditional_forward_never_rings_the_number(pbx):
    await pbx.daemon.forwarding.set(SYSTEM, "102", "always", "ext:103")
    async with phone(pbx, "102") as p102, phone(pbx, "103") as p103:
        result = await call(pbx, "102", "answered_caller_bye", hold_ms=500)
        assert result.ok, result.stderr_tail
        assert (p102.invites_received(), p103.invites_received()) == (0, 1)
    (record,) = await pbx.wait_calls(1)
    assert (record.callee, record.disposition) == ("102", "answered")  # the record keeps what was dialled
    assert callee_legs(record) == [("PJSIP/103", "answered")]
    assert forwarded_events(pbx, record.call_id) == [("102", "always", "ext:103")]
    assert await pbx.event_types(record.call_id) == [
        "CallStarted",
        "CallForwarded",
        "CallRinging",
        "CallAnswered",
        "CallEnded",
    ]


async def test_busy_forward(pbx):
    await pbx.daemon.forwarding.set(SYSTEM, "102", "busy", "ext:103")
    async with phone(pbx, "102", "busy") as p102, phone(pbx, "103") as p103:
        result = await call(pbx, "102", "answered_caller_bye", hold_ms=500)
        assert result.ok, result.stderr_tail
        assert (p102.invites_received(), p103.invites_received()) == (1, 1)
    (record,) = await pbx.wait_calls(1)
    assert record.disposition == "answered"
    assert callee_legs(record) == [("PJSIP/102", "busy"), ("PJSIP/103", "answered")]
    assert forwarded_events(pbx, record.call_id) == [("102", "busy", "ext:103")]


async def test_no_answer_forward_after_its_own_ring_time(pbx):
    await pbx.daemon.forwarding.set(SYSTEM, "102", "no_answer", "ext:103", ring_seconds=2)
    async with phone(pbx, "102", "ring") as p102, phone(pbx, "103") as p103:
        started = asyncio.get_running_loop().time()
        result = await call(pbx, "102", "answered_caller_bye", hold_ms=500)
        elapsed = asyncio.get_running_loop().time() - started
        assert result.ok, result.stderr_tail
        assert "CANCEL" in p102.message_log() and p103.invites_received() == 1
    assert 2.0 <= elapsed < pbx.settings.calls.ring_timeout + 2  # its 2 s, not the PBX's ring timeout
    (record,) = await pbx.wait_calls(1)
    assert callee_legs(record) == [("PJSIP/102", "no_answer"), ("PJSIP/103", "answered")]


async def test_unavailable_forward(pbx):
    await pbx.daemon.forwarding.set(SYSTEM, "102", "unavailable", "ext:103")
    async with phone(pbx, "103"):
        result = await call(pbx, "102", "answered_caller_bye", hold_ms=500)
        assert result.ok, result.stderr_tail
    (record,) = await pbx.wait_calls(1)
    assert callee_legs(record) == [("PJSIP/103", "answered")]
    assert forwarded_events(pbx, record.call_id) == [("102", "unavailable", "ext:103")]


async def test_do_not_disturb_gives_busy_then_follows_busy_forwarding(pbx):
    await pbx.daemon.forwarding.set_dnd(SYSTEM, "102", True)
    async with phone(pbx, "102") as p102, phone(pbx, "103") as p103:
        refused = await call(pbx, "102", "expect_failure")
        assert refused.ok and refused.final_code == 486
        await pbx.daemon.forwarding.set(SYSTEM, "102", "busy", "ext:103")
        answered = await call(pbx, "102", "answered_caller_bye", hold_ms=300)
        assert answered.ok, answered.stderr_tail
        assert (p102.invites_received(), p103.invites_received()) == (0, 1)  # 102's phone never rang
    first, second = await pbx.wait_calls(2)
    assert (first.disposition, first.sip_code) == ("busy", 486)
    assert second.disposition == "answered" and callee_legs(second) == [("PJSIP/103", "answered")]


async def test_forwarding_loop_is_broken_at_run_time(pbx):
    await pbx.daemon.forwarding.set(SYSTEM, "102", "busy", "ext:103")
    await pbx.daemon.forwarding.set(SYSTEM, "103", "busy", "ext:102")
    async with phone(pbx, "102", "busy") as p102, phone(pbx, "103", "busy") as p103:
        result = await call(pbx, "102", "expect_failure")
        assert (p102.invites_received(), p103.invites_received()) == (1, 1)  # each rung once, no more
    assert result.ok and result.final_code == 486
    (record,) = await pbx.wait_calls(1)
    assert (record.disposition, record.sip_code) == ("busy", 486)
    hops = [("102", "busy", "ext:103"), ("103", "busy", "ext:102")]
    assert forwarded_events(pbx, record.call_id) == hops


async def test_forward_to_hangup_declines_the_call(pbx):
    await pbx.daemon.forwarding.set(SYSTEM, "102", "unavailable", "hangup")
    result = await call(pbx, "102", "expect_failure")
    assert result.ok and result.final_code == 603
    (record,) = await pbx.wait_calls(1)
    assert (record.disposition, record.sip_code) == ("declined", 603)


async def test_forward_to_an_outside_number_leaves_through_the_trunk(pbx):
    async with SippCarrier("answer") as carrier:
        await pbx.daemon.trunks.add(SYSTEM, "carrier", carrier.ip, carrier.port, "+15550001000")
        # 102 has no phone registered: its calls go to a mobile, through the carrier
        await pbx.daemon.forwarding.set(SYSTEM, "102", "unavailable", "external:+1 555 765 4321")
        result = await call(pbx, "102", "answered_caller_bye", hold_ms=500)
        assert result.ok, result.stderr_tail
        (invite,) = await carrier.wait_invites(1)
    # the carrier is asked for the mobile, from our public number, and is told who really calls
    assert (invite.uri_user, invite.from_user, invite.from_display) == (
        "+15557654321",
        "+15550001000",
        "Phone 101",
    )
    (record,) = await pbx.wait_calls(1)
    assert (record.callee, record.disposition) == ("102", "answered")
    assert callee_legs(record) == [("PJSIP/trunk-carrier/+15557654321", "answered")]
    assert forwarded_events(pbx, record.call_id) == [("102", "unavailable", "external:+15557654321")]
