"""Missed calls from real SIP calls: the carrier sipp calls a public number; nobody answers, the phone is
busy, the caller gives up waiting in a queue. Each opens a record with the right fields and a `missed`
webhook; a call back from an internal phone through the carrier returns it."""

from __future__ import annotations

import asyncio

import pytest

from core.models import Call, MissedCall
from core.services.auth import SYSTEM
from pbxtest.sipp import SippCarrier, SippPhone, place_call, place_carrier_call
from pbxtest.webhooks import Receiver
from tests.integration.conftest import PASSWORDS

pytestmark = [pytest.mark.integration, pytest.mark.pbx_settings(webhooks={"allow_private": True})]

DID = "+15550001000"
OUTSIDE = "+15557654321"


async def until(predicate, timeout=15.0):
    async with asyncio.timeout(timeout):
        while not await predicate():
            await asyncio.sleep(0.05)


async def receiving(pbx, events="missed"):
    receiver = Receiver().start()
    new = await pbx.daemon.services.webhooks.add(SYSTEM, receiver.url, events)
    receiver.secret = new.secret
    await pbx.daemon.webhooks.load()
    return receiver


async def test_nobody_answers_then_a_call_back_returns_it(pbx):
    receiver = await receiving(pbx, "missed")
    try:
        async with SippCarrier("answer") as carrier:
            await pbx.daemon.trunks.add(SYSTEM, "carrier", carrier.ip, carrier.port, DID)
            await pbx.daemon.trunks.set_route(SYSTEM, DID, "ext:102")
            async with SippPhone("102", PASSWORDS["102"], pbx.sip_port, "ring"):
                result = await place_carrier_call(OUTSIDE, DID, pbx.sip_port, "expect_failure", timeout=20)
            assert result.ok, result.stderr_tail
            await until(MissedCall.exists)
            missed = await MissedCall.first()
            (hook,) = await receiver.until(lambda r: len(r) == 1)
            # 101 calls the number back through the carrier, which answers
            back = await place_call("101", PASSWORDS["101"], OUTSIDE, pbx.sip_port, hold_ms=300)
            assert back.ok, back.stderr_tail
            await until(lambda: MissedCall.exists(status="returned"))
    finally:
        receiver.stop()
    call = await Call.get(call_id=missed.call_id)  # type: ignore[attr-defined]
    assert (call.outcome, call.disposition, call.answered_by) == ("missed", "no_answer", "")
    assert (missed.caller, missed.callee, missed.reason, missed.ended) == (
        OUTSIDE,
        DID,
        "no_answer",
        "ext:102",
    )
    assert missed.numbers == ["102"] and missed.waited_seconds >= 2.5
    data = hook.data
    assert hook.verified and data["event"] == "missed" and data["missed_call"] == missed.id
    assert (data["caller"], data["did"], data["direction"], data["reason"]) == (
        OUTSIDE,
        DID,
        "in",
        "no_answer",
    )
    returned = await MissedCall.get(id=missed.id)
    assert (returned.resolved_by, returned.status) == ("101", "returned")
    assert [e.status for e in pbx.events if e.type == "MissedCallResolved"] == ["returned"]


async def test_a_busy_phone_is_a_missed_call(pbx):
    async with SippCarrier("answer") as carrier:
        await pbx.daemon.trunks.add(SYSTEM, "carrier", carrier.ip, carrier.port, DID)
        await pbx.daemon.trunks.set_route(SYSTEM, DID, "ext:102")
        async with SippPhone("102", PASSWORDS["102"], pbx.sip_port, "busy"):
            result = await place_carrier_call(OUTSIDE, DID, pbx.sip_port, "expect_failure")
        assert result.ok and result.final_code == 486, result.stderr_tail
    await until(MissedCall.exists)
    missed = await MissedCall.first()
    assert (missed.reason, missed.ended, missed.status) == ("busy", "ext:102", "open")


async def test_a_caller_who_gives_up_waiting_in_a_queue_is_an_abandoned_missed_call(pbx):
    await pbx.daemon.queues.save(SYSTEM, "support", number="600", agent_timeout=10)
    await pbx.daemon.queues.add_agent(SYSTEM, "support", "103")
    async with SippCarrier("answer") as carrier:
        await pbx.daemon.trunks.add(SYSTEM, "carrier", carrier.ip, carrier.port, DID)
        await pbx.daemon.trunks.set_route(SYSTEM, DID, "queue:support")
        async with SippPhone("103", PASSWORDS["103"], pbx.sip_port, "ring"):
            result = await place_carrier_call(OUTSIDE, DID, pbx.sip_port, "answered_caller_bye", hold_ms=2000)
        assert result.ok, result.stderr_tail  # the queue answered (music on hold), the caller hung up
    await until(MissedCall.exists)
    missed = await MissedCall.first()
    call = await Call.get(call_id=missed.call_id)  # type: ignore[attr-defined]
    assert (missed.reason, missed.ended) == ("abandoned", "queue:support")
    assert call.pbx_answered_at is not None and call.answered_at is None
    assert (call.disposition, call.outcome) == ("cancelled", "abandoned")
    assert 1.5 <= missed.waited_seconds <= 6


async def test_an_answered_call_through_a_menu_says_who_answered(pbx):
    await pbx.daemon.ivrs.save(SYSTEM, "main", prompt="sound:beep", number="500")
    await pbx.daemon.ivrs.set_option(SYSTEM, "main", "1", "ext:102")
    async with SippPhone("102", PASSWORDS["102"], pbx.sip_port, "answer"):
        result = await place_call(
            "101", PASSWORDS["101"], "500", pbx.sip_port, "dtmf_caller_bye", dtmf=[(800, "1")], hold_ms=3500
        )
        assert result.ok, result.stderr_tail
    (record,) = await pbx.wait_calls(1)
    assert (record.callee, record.answered_by, record.outcome) == ("500", "102", "answered")
    assert record.pbx_answered_at is not None and record.pbx_answered_at < record.answered_at
    assert record.wait_seconds > 0.5 and record.talk_seconds > 0.5
    assert not await MissedCall.exists()
