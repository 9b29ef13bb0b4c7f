"""Calls between internal numbers: real SIP (sipp) through a real Asterisk, decided by our Stasis app.

Each test asserts what the caller's phone saw, the call record (with its legs) and the persisted events.
"""

from __future__ import annotations

import asyncio

import pytest

from core.models import EventRecord
from pbxtest.sipp import SippPhone, place_call
from tests.integration.conftest import PASSWORDS

pytestmark = pytest.mark.integration


def phone(pbx, number, behaviour="answer", **kw):
    return SippPhone(number, PASSWORDS[number], pbx.sip_port, behaviour, **kw)


def call(pbx, caller, dialled, scenario, **kw):
    return place_call(caller, PASSWORDS[caller], dialled, pbx.sip_port, scenario, **kw)


async def test_answered_call_caller_hangs_up(pbx):
    async with phone(pbx, "102") as callee:
        result = await call(pbx, "101", "102", "answered_caller_bye", hold_ms=1500)
        assert result.ok, result.stderr_tail
        assert result.codes_seen[-1] == 200 and 180 in result.codes_seen  # the caller heard ringing
        assert callee.invites_received() == 1
    (record,) = await pbx.wait_calls(1)
    assert (record.caller, record.callee, record.disposition) == ("101", "102", "answered")
    assert record.answered_at and record.ended_at and 1.0 < record.duration < 5.0
    legs = pbx.legs(record)
    assert set(legs) == {"caller", "callee"}
    assert legs["callee"].endpoint == "PJSIP/102" and legs["callee"].answered_at is not None
    assert all(leg.ended_at and leg.disposition == "answered" for leg in legs.values())
    assert await pbx.event_types(record.call_id) == [
        "CallStarted",
        "CallRinging",
        "CallAnswered",
        "CallEnded",
    ]
    ringing = await EventRecord.get(call_id=record.call_id, type="CallRinging")
    assert ringing.payload["sub_call_id"] == legs["callee"].sub_call_id
    answered = await EventRecord.get(call_id=record.call_id, type="CallAnswered")
    assert answered.payload["sub_call_id"] == legs["callee"].sub_call_id
    assert [e.type for e in pbx.events if getattr(e, "call_id", None) == record.call_id] == [
        "CallStarted",
        "CallRinging",
        "CallAnswered",
        "CallEnded",
    ]  # published to subscribers too, in order


async def test_answered_call_callee_hangs_up(pbx):
    async with phone(pbx, "102", "answer_hangup", hold_ms=1000):
        result = await call(pbx, "101", "102", "answered_wait_bye")
        assert result.ok, result.stderr_tail  # the caller got the PBX's BYE
    (record,) = await pbx.wait_calls(1)
    assert record.disposition == "answered" and record.duration >= 0.8
    assert pbx.legs(record)["callee"].hangup_cause == 16  # normal clearing, from the callee


async def test_busy_callee(pbx):
    async with phone(pbx, "102", "busy") as callee:
        result = await call(pbx, "101", "102", "expect_failure")
        assert callee.invites_received() == 1
    assert result.ok and result.final_code == 486
    (record,) = await pbx.wait_calls(1)
    assert (record.disposition, record.sip_code, record.answered_at) == ("busy", 486, None)
    assert pbx.legs(record)["callee"].hangup_cause == 17
    ended = await EventRecord.get(call_id=record.call_id, type="CallEnded")
    assert ended.payload["disposition"] == "busy"
    assert await pbx.event_types(record.call_id) == ["CallStarted", "CallRinging", "CallEnded"]


async def test_no_answer_after_ring_timeout(pbx):
    async with phone(pbx, "102", "ring") as callee:
        started = asyncio.get_running_loop().time()
        result = await call(pbx, "101", "102", "expect_failure")
        elapsed = asyncio.get_running_loop().time() - started
        await asyncio.sleep(0.5)
        assert callee.invites_received() == 1
        assert "CANCEL" in callee.message_log()  # the PBX stopped the callee ringing
    assert result.ok and result.final_code == 480 and 180 in result.codes_seen
    assert elapsed >= pbx.settings.calls.ring_timeout  # it rang for the configured time first
    (record,) = await pbx.wait_calls(1)
    assert (record.disposition, record.sip_code) == ("no_answer", 480)
    assert pbx.legs(record)["callee"].disposition == "no_answer"


async def test_unknown_number(pbx):
    result = await call(pbx, "101", "999", "expect_failure")
    assert result.ok and result.final_code == 404
    (record,) = await pbx.wait_calls(1)
    assert (record.callee, record.disposition, record.sip_code) == ("999", "unknown_number", 404)
    assert set(pbx.legs(record)) == {"caller"}
    assert await pbx.event_types(record.call_id) == ["CallStarted", "CallEnded"]


async def test_unregistered_callee(pbx):
    result = await call(pbx, "101", "103", "expect_failure")
    assert result.ok and result.final_code == 480
    (record,) = await pbx.wait_calls(1)
    assert (record.disposition, record.sip_code) == ("unavailable", 480)


async def test_disabled_number(pbx):
    from core.services.auth import SYSTEM

    async with phone(pbx, "102") as callee:
        await pbx.daemon.extensions.update(SYSTEM, "104", enabled=False)
        result = await call(pbx, "101", "104", "expect_failure")
        assert callee.invites_received() == 0
    assert result.ok and result.final_code == 403
    (record,) = await pbx.wait_calls(1)
    assert (record.disposition, record.sip_code) == ("disabled", 403)


async def test_caller_cancels_while_ringing(pbx):
    async with phone(pbx, "102", "ring") as callee:
        result = await call(pbx, "101", "102", "cancel")
        assert result.ok and result.final_code == 487
        await asyncio.sleep(0.5)
        assert "CANCEL" in callee.message_log()  # the callee stopped ringing too
    (record,) = await pbx.wait_calls(1)
    assert record.disposition == "cancelled" and record.answered_at is None


async def test_extension_added_at_runtime_can_register_and_be_called(pbx):
    from core.services.auth import SYSTEM

    view = await pbx.daemon.extensions.add(SYSTEM, "2001", "Late joiner")
    async with SippPhone("2001", view.sip_password, pbx.sip_port, "answer"):
        result = await call(pbx, "101", "2001", "answered_caller_bye", hold_ms=300)
        assert result.ok, result.stderr_tail
    await pbx.daemon.extensions.remove(SYSTEM, "2001")
    with pytest.raises(Exception, match="REGISTER 2001"):
        async with SippPhone("2001", view.sip_password, pbx.sip_port, "answer", register_timeout=3):
            pass


async def test_a_caller_who_hangs_up_right_after_the_answer_ended_an_answered_call(pbx):
    # The caller's ACK and BYE follow the 200 OK at once: the hangup can beat the bridge being built.
    async with phone(pbx, "102"):
        for _ in range(3):
            result = await call(pbx, "101", "102", "expect_failure")  # on a 200: ACK, then BYE at once
            assert result.final_code == 200
    records = await pbx.wait_calls(3)
    assert [(r.disposition, r.sip_code) for r in records] == [("answered", None)] * 3
    for record in records:
        legs = pbx.legs(record)
        assert all(leg.ended_at and leg.disposition == "answered" for leg in legs.values())
        assert "CallEnded" in await pbx.event_types(record.call_id)
