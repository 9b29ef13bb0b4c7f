"""A phone's own transfer keys, SIP REFER, through Asterisk and our Stasis app (PJSIP_TRANSFER_HANDLING
ari-only): blind (Refer-To a number) and attended (Refer-To with Replaces, naming the phone's other
call), proven with sipp sending the REFER. Each test asserts what the phones saw (202, the NOTIFY of the
outcome, BYE), who talks to whom in Asterisk's bridge, the call records' legs and the events."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from core.models import Call, EventRecord
from pbxtest.sipp import SippPhone, place_call
from pbxtest.sipp.messages import parse_message_log
from pbxtest.sipp.refer import Dialog, replaces_uri, send_refer
from pbxtest.sipp.refer import notified as refer_outcomes
from tests.integration.conftest import PASSWORDS
from tests.integration.test_call_control import calling, in_bridge, live_call, received, until

pytestmark = pytest.mark.integration


def phone(pbx, number, behaviour="answer", **kw):
    return SippPhone(number, PASSWORDS[number], pbx.sip_port, behaviour, **kw)


def notified(sipp_phone) -> list[str]:
    """The outcomes the PBX sent the phone of its transfer: the status lines of the NOTIFYs' sipfrags."""
    return refer_outcomes(parse_message_log(sipp_phone.message_log()))


async def dialog_of(pbx, channel_id: str) -> Dialog:
    """A phone's dialog, as Asterisk's channel of it has it."""
    ast = pbx.settings.asterisk
    async with httpx.AsyncClient(
        base_url=f"{ast.base_url.rstrip('/')}/ari/", auth=(ast.ari_user, ast.ari_password), trust_env=False
    ) as ari:

        async def var(name: str) -> str:
            r = await ari.get(
                f"channels/{channel_id}/variable", params={"variable": f"CHANNEL(pjsip,{name})"}
            )
            r.raise_for_status()
            return str(r.json()["value"])

        return Dialog(await var("call-id"), await var("remote_tag"), await var("local_tag"))


async def test_a_phone_transfers_blind_with_its_own_refer(pbx):
    async with (
        phone(pbx, "102", "answer_refer", hold_ms=1500, refer_to="103") as operator,
        phone(pbx, "103", "answer_hangup", hold_ms=2500) as target,
    ):
        caller, call_id, flow = await calling(pbx, "up")
        caller_channel, operator_channel = flow.caller_id, flow.callee_id
        await until(lambda: received(operator, "BYE"))  # 202, NOTIFY 200, then released
        assert any("SIP/2.0 200" in line for line in notified(operator)), notified(operator)
        assert await target.wait_invites(1) == 1
        await until(lambda: flow.live.state == "up" and flow.callee_id not in (None, operator_channel))
        assert await in_bridge(pbx, call_id) == {caller_channel, flow.callee_id}  # 101 talks to 103
        result = await caller  # 103 hangs up after 2.5 s: the PBX hangs up the caller
        assert result.ok, result.stderr_tail
    (record,) = await pbx.wait_calls(1)
    assert (record.caller, record.callee, record.disposition) == ("101", "102", "answered")
    legs = sorted((leg.started_at, leg.role, leg.endpoint, leg.disposition) for leg in record.legs)
    assert [leg[1:] for leg in legs] == [
        ("caller", legs[0][2], "answered"),
        ("callee", "PJSIP/102", "transferred"),
        ("callee", "PJSIP/103", "answered"),
    ]
    transferred = await EventRecord.get(call_id=call_id, type="CallTransferred")
    assert transferred.payload["destination"] == "ext:103"
    assert (transferred.payload["party"], transferred.payload["actor"]) == ("caller", "phone")
    assert transferred.payload["stage"] == "blind"
    types = await pbx.event_types(call_id)
    assert types.count("CallAnswered") == 2 and types[-1] == "CallEnded"


async def test_the_callers_phone_transfers_the_callee_blind(pbx):
    # the REFER comes on the channel the dialplan handed to our app (the first: on one the app dialled)
    async with phone(pbx, "102") as callee, phone(pbx, "104", "answer_hangup", hold_ms=2000) as target:
        caller, call_id, flow = await calling(pbx, "up")
        callee_channel = flow.callee_id
        dialog = await dialog_of(pbx, flow.caller_id)  # 101's phone ↔ PBX
        refer = await send_refer("101", dialog, f"<sip:104@127.0.0.1:{pbx.sip_port}>", pbx.sip_port)
        assert refer.code == 202 and refer.released, refer.message_log  # 101 released after NOTIFY 200
        assert any("SIP/2.0 200" in line for line in refer.notified), refer.notified
        assert await target.wait_invites(1) == 1
        await until(lambda: flow.live.state == "up" and flow.callee_id not in (None, callee_channel))
        assert await in_bridge(pbx, call_id) == {callee_channel, flow.callee_id}  # 102 talks to 104
        await until(lambda: received(callee, "BYE"))  # 104 hangs up after 2 s: the PBX hangs up 102
        caller.cancel()  # 101's first sipp run: its dialog went on in the REFER's run
    (record,) = await pbx.wait_calls(1)
    legs = sorted((leg.started_at, leg.endpoint, leg.disposition) for leg in record.legs)
    assert [(leg[1][:9], leg[2]) for leg in legs] == [
        ("PJSIP/101", "transferred"),
        ("PJSIP/102", "answered"),
        ("PJSIP/104", "answered"),
    ]
    transferred = await EventRecord.get(call_id=call_id, type="CallTransferred")
    assert (transferred.payload["party"], transferred.payload["destination"]) == ("callee", "ext:104")


async def test_a_phone_transfer_to_a_number_that_does_not_exist_is_declined(pbx):
    async with phone(pbx, "102", "answer_refer", hold_ms=1000, refer_to="199") as operator:
        caller, call_id, flow = await calling(pbx, "up")
        channels = {flow.caller_id, flow.callee_id}
        await until(lambda: any("SIP/2.0 6" in line for line in notified(operator)))  # 603 Declined
        assert not received(operator, "BYE")  # the phone keeps its call
        assert await in_bridge(pbx, call_id) == channels
        assert flow.live.state == "up"
        pbx.daemon.calls.control.table.of_call(call_id)  # still in progress
        await pbx.daemon.calls.control.hang_up(call_id)
        assert (await caller).ok
    (record,) = await pbx.wait_calls(1)
    assert sorted(leg.disposition for leg in record.legs) == ["answered", "answered"]
    assert "CallTransferred" not in await pbx.event_types(call_id)


async def test_a_phone_transfers_attended_with_replaces(pbx):
    async with (
        phone(pbx, "102"),
        phone(pbx, "103", "answer_hangup", hold_ms=6000) as target,
    ):
        caller, first_id, first = await calling(pbx, "up")  # 101 → 102
        consult = asyncio.create_task(  # 102 (a second line of its phone) → 103
            place_call("102", PASSWORDS["102"], "103", pbx.sip_port, "answered_wait_bye")
        )
        await until(lambda: len([c for c in pbx.daemon.calls.live.values() if c.state == "up"]) == 2)
        second_id = next(c for c in pbx.daemon.calls.live if c != first_id)
        second = pbx.daemon.calls.table.of_call(second_id)
        caller_channel, target_channel = first.caller_id, second.callee_id
        first_dialog = await dialog_of(pbx, first.callee_id)  # 102's phone ↔ PBX, of the first call
        second_dialog = await dialog_of(pbx, second.caller_id)
        refer_to = replaces_uri("103", "127.0.0.1", pbx.sip_port, second_dialog)
        refer = await send_refer("102", first_dialog, refer_to, pbx.sip_port)
        assert refer.code == 202, refer.message_log
        assert refer.released, refer.message_log  # the phone's first line is released (BYE)
        assert any("SIP/2.0 200" in line for line in refer.notified), refer.notified
        assert (await consult).ok  # and its second line too (BYE from the PBX)
        await until(lambda: first.callee_id == target_channel)
        assert await in_bridge(pbx, first_id) == {caller_channel, target_channel}  # 101 talks to 103
        assert await live_call(pbx, "up") == first_id and second_id not in pbx.daemon.calls.live
        assert target.invites_received() == 1  # 103 was never rung again: its call was moved
        assert (await caller).ok  # 103 hangs up: the PBX hangs up 101
    first_record, second_record = await pbx.wait_calls(2)
    assert first_record.call_id == first_id
    legs = sorted((leg.started_at, leg.role, leg.endpoint, leg.disposition) for leg in first_record.legs)
    assert [leg[1:] for leg in legs] == [
        ("caller", legs[0][2], "answered"),
        ("callee", "PJSIP/102", "transferred"),
        ("callee", "PJSIP/103", "answered"),
    ]
    assert (second_record.caller, second_record.callee, second_record.disposition) == (
        "102",
        "103",
        "answered",
    )
    assert sorted(leg.disposition for leg in second_record.legs) == ["transferred", "transferred"]
    transferred = await EventRecord.get(call_id=first_id, type="CallTransferred")
    assert transferred.payload["destination"] == "ext:103" and transferred.payload["stage"] == "completed"
    assert (transferred.payload["party"], transferred.payload["actor"]) == ("caller", "phone")
    assert await Call.filter(ended_at=None).count() == 0
