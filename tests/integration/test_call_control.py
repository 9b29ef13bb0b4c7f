"""Live call control through the real API, proven by real SIP calls (sipp) through Asterisk and our app:
blind transfer (either party), redirect of a ringing call, hold and resume, hang up.

Each test asserts what the phones saw (INVITE, CANCEL, BYE), who is in the call's bridge in Asterisk
(ARI), the call record's legs, the events and the audit log.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from core.models import AuditEntry, Call, EventRecord
from core.services.auth import SYSTEM
from pbxtest.sipp import SippPhone, place_call
from pbxtest.sipp.messages import parse_message_log
from tests.integration.conftest import PASSWORDS

pytestmark = pytest.mark.integration


def phone(pbx, number, behaviour="answer", **kw):
    return SippPhone(number, PASSWORDS[number], pbx.sip_port, behaviour, **kw)


def api(pbx) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{pbx.daemon.api_port}/api/",
        headers={"Authorization": f"Bearer {pbx.settings.api.token}"},
        trust_env=False,
    )


async def live_call(pbx, state: str, timeout: float = 10) -> str:
    """The id of the (only) call in progress, once it is in `state`."""
    async with asyncio.timeout(timeout):
        while True:
            calls = [c for c in pbx.daemon.calls.live.values() if c.state == state]
            if calls:
                return calls[0].call_id
            await asyncio.sleep(0.05)


async def calling(pbx, state: str) -> tuple[asyncio.Task, str, Any]:
    """101 calls 102 and waits for the PBX's BYE: (the caller's sipp run, the call id, the call's flow),
    once the call is in `state`."""
    caller = asyncio.create_task(
        place_call("101", PASSWORDS["101"], "102", pbx.sip_port, "answered_wait_bye")
    )
    call_id = await live_call(pbx, state)
    return caller, call_id, pbx.daemon.calls.table.of_call(call_id)


async def in_bridge(pbx, call_id: str) -> set[str]:
    """The channels in the call's bridge, as Asterisk has it."""
    client = pbx.daemon.calls.deps.ari.current
    bridges = {b["id"]: b for b in await client.list_bridges()}
    return set(bridges[f"pbx-bridge-{call_id}"]["channels"])


def received(sipp_phone, method: str) -> int:
    return sum(1 for m in parse_message_log(sipp_phone.message_log()) if not m.sent and m.method == method)


async def until(what, timeout: float = 10):  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not (value := what()):
            await asyncio.sleep(0.05)
    return value


async def test_blind_transfer_of_the_caller_from_the_api(pbx):
    async with phone(pbx, "102") as operator, phone(pbx, "103", "answer_hangup", hold_ms=2500) as target:
        caller, call_id, flow = await calling(pbx, "up")
        caller_channel, operator_channel = flow.caller_id, flow.callee_id
        assert await in_bridge(pbx, call_id) == {caller_channel, operator_channel}
        async with api(pbx) as client:
            r = await client.post(f"calls/{call_id}/transfer", json={"destination": "ext:103"})
        assert r.status_code == 202, r.text
        assert r.json() == {
            "call_id": call_id,
            "party": "caller",
            "destination": "ext:103",
            "attended": False,
        }
        await until(lambda: received(operator, "BYE"))  # the operator's side is released
        assert await target.wait_invites(1) == 1
        await until(lambda: flow.live.state == "up" and flow.callee_id not in (None, operator_channel))
        assert await in_bridge(pbx, call_id) == {caller_channel, flow.callee_id}  # 101 talks to 103
        result = await caller  # 103 hangs up after 2.5 s: the PBX hangs up the caller
        assert result.ok, result.stderr_tail
        assert result.codes_seen[-1] == 200
    (record,) = await pbx.wait_calls(1)
    assert (record.caller, record.callee, record.disposition) == ("101", "102", "answered")
    legs = sorted((leg.started_at, leg.role, leg.endpoint, leg.disposition) for leg in record.legs)
    assert [leg[1:] for leg in legs] == [
        ("caller", legs[0][2], "answered"),
        ("callee", "PJSIP/102", "transferred"),
        ("callee", "PJSIP/103", "answered"),
    ]
    types = await pbx.event_types(call_id)
    assert types.count("CallAnswered") == 2 and types[-1] == "CallEnded"
    transferred = await EventRecord.get(call_id=call_id, type="CallTransferred")
    assert transferred.payload["destination"] == "ext:103"
    assert (transferred.payload["party"], transferred.payload["actor"]) == ("caller", "admin")
    audit = await AuditEntry.get(action="call.transfer", target=call_id)
    assert (audit.actor, audit.source, audit.ok) == ("admin", "api", True)
    assert audit.detail["before"]["callee"] == "102" and audit.detail["destination"] == "ext:103"


async def test_blind_transfer_of_the_callee_releases_the_caller(pbx):
    async with phone(pbx, "102", "answer_hangup", hold_ms=4000), phone(pbx, "104") as target:
        caller, call_id, flow = await calling(pbx, "up")
        callee_channel = flow.callee_id
        async with api(pbx) as client:
            r = await client.post(
                f"calls/{call_id}/transfer", json={"destination": "ext:104", "party": "callee"}
            )
        assert r.status_code == 202, r.text
        result = await caller  # released: the caller gets the PBX's BYE at once
        assert result.ok, result.stderr_tail
        assert await target.wait_invites(1) == 1
        await until(lambda: flow.live.state == "up" and flow.caller_id == callee_channel)
        assert await in_bridge(pbx, call_id) == {callee_channel, flow.callee_id}  # 102 talks to 104
        await until(lambda: received(target, "BYE"))  # 102 hangs up: 104 gets the PBX's BYE
    (record,) = await pbx.wait_calls(1)
    dispositions = sorted((leg.endpoint.split("-")[0], leg.disposition) for leg in record.legs)
    assert dispositions == [
        ("PJSIP/101", "transferred"),
        ("PJSIP/102", "answered"),
        ("PJSIP/104", "answered"),
    ]


async def test_redirect_of_a_ringing_call(pbx):
    async with (
        phone(pbx, "102", "ring") as ringing,
        phone(pbx, "104", "answer_hangup", hold_ms=1000) as target,
    ):
        caller, call_id, _ = await calling(pbx, "ringing")
        async with api(pbx) as client:
            early = await client.post(f"calls/{call_id}/transfer", json={"destination": "ext:104"})
            assert early.status_code == 409 and "redirect it instead" in early.json()["error"]
            r = await client.post(f"calls/{call_id}/redirect", json={"destination": "ext:104"})
        assert r.status_code == 202, r.text
        await until(lambda: received(ringing, "CANCEL"))  # 102 stops ringing
        result = await caller
        assert result.ok and result.codes_seen[-1] == 200, result.stderr_tail
        assert target.invites_received() == 1
    (record,) = await pbx.wait_calls(1)
    legs = {leg.endpoint: leg.disposition for leg in record.legs if leg.role == "callee"}
    assert legs == {"PJSIP/102": "redirected", "PJSIP/104": "answered"}
    assert "CallRedirected" in await pbx.event_types(call_id)


async def test_hold_resume_and_hang_up_from_the_api(pbx):
    async with phone(pbx, "102") as callee:
        caller, call_id, flow = await calling(pbx, "up")
        async with api(pbx) as client:
            r = await client.post(f"calls/{call_id}/hold", json={"party": "caller"})
            assert r.status_code == 200 and r.json()["held"] == "caller", r.text
            assert await in_bridge(pbx, call_id) == {flow.callee_id}  # the caller is out, with music
            live = (await client.get("calls/live")).json()
            assert [c["state"] for c in live] == ["held"]
            r = await client.post(f"calls/{call_id}/resume")
            assert r.status_code == 200 and r.json()["resumed"] == "caller", r.text
            assert await in_bridge(pbx, call_id) == {flow.caller_id, flow.callee_id}
            r = await client.delete(f"calls/{call_id}")
            assert r.status_code == 204, r.text
            result = await caller
            assert result.ok, result.stderr_tail  # the caller got the PBX's BYE
            await until(lambda: received(callee, "BYE"))
            gone = await client.delete(f"calls/{call_id}")
            assert gone.status_code == 404 and "no call" in gone.json()["error"]
    (record,) = await pbx.wait_calls(1)
    assert record.disposition == "answered"
    types = await pbx.event_types(call_id)
    assert {"CallHeld", "CallResumed", "CallHungUp"} <= set(types)
    actions = [a.action for a in await AuditEntry.filter(target=call_id).order_by("id")]
    assert actions[:3] == ["call.hold", "call.resume", "call.hangup"]


async def test_click_to_call_rings_the_phone_then_calls_from_it(pbx):
    async with phone(pbx, "102") as placing, phone(pbx, "103", "answer_hangup", hold_ms=1500) as callee:
        async with api(pbx) as client:
            r = await client.post("calls", json={"from": "102", "to": "103"})
            assert r.status_code == 202, r.text
            call_id = r.json()["call_id"]
            assert r.json() == {"call_id": call_id, "from": "102", "to": "103"}
            offline = await client.post("calls", json={"from": "104", "to": "103"})
            assert offline.status_code == 409 and "104 has no phone registered" in offline.json()["error"]
        assert await placing.wait_invites(1) == 1  # 102 rings first, showing whom it will call
        (invite,) = [
            m for m in parse_message_log(placing.message_log()) if not m.sent and m.method == "INVITE"
        ]
        assert '"103"' in invite.text.split("From:", 1)[1].splitlines()[0]
        assert await callee.wait_invites(1) == 1  # then, once 102 answered, 103
        await until(lambda: received(placing, "BYE"), timeout=15)  # 103 hung up: the PBX ends 102's side
    (record,) = await pbx.wait_calls(1)
    assert (record.call_id, record.caller, record.callee) == (call_id, "102", "103")
    assert (record.direction, record.disposition) == ("internal", "answered")
    assert (await pbx.event_types(call_id))[:2] == ["CallPlaced", "CallStarted"]


@pytest.mark.parametrize(("picker", "code"), [("103", "*8"), ("104", "**102")])
async def test_a_phone_picks_up_a_call_ringing_elsewhere_by_feature_code(pbx, picker, code):
    await pbx.daemon.groups.save(SYSTEM, "sales")
    await pbx.daemon.groups.set_members(SYSTEM, "sales", ["102", "103"])
    async with phone(pbx, "102", "ring") as ringing:
        caller, call_id, _ = await calling(pbx, "ringing")
        picked = await place_call(picker, PASSWORDS[picker], code, pbx.sip_port, hold_ms=1500)
        assert picked.ok and picked.codes_seen[-1] == 200, picked.stderr_tail  # answered, then hung up
        assert received(ringing, "CANCEL") == 1  # 102 stopped ringing
        result = await caller
        assert result.ok and result.codes_seen[-1] == 200, result.stderr_tail  # the PBX's BYE after
    (record,) = await pbx.wait_calls(1)
    assert (record.call_id, record.disposition) == (call_id, "answered")
    legs = {leg.endpoint: leg.disposition for leg in record.legs if leg.role == "callee"}
    assert legs == {"PJSIP/102": "answered_elsewhere", f"PJSIP/{picker}": "answered"}
    event = await EventRecord.get(call_id=call_id, type="CallPickedUp")
    assert event.payload["number"] == picker


async def test_a_pickup_code_with_nothing_ringing_gets_404(pbx):
    result = await place_call("104", PASSWORDS["104"], "*8", pbx.sip_port, "expect_failure")
    assert result.ok and result.final_code == 404, result.stderr_tail
    assert await Call.all().count() == 0


@pytest.mark.parametrize("mode", ["listen", "whisper", "barge"])
async def test_a_supervisor_listens_whispers_or_barges_with_a_third_phone(pbx, mode):
    async with (
        phone(pbx, "102", "answer_hangup", hold_ms=5000),
        phone(pbx, "105") as supervisor,
    ):
        caller, call_id, flow = await calling(pbx, "up")
        async with api(pbx) as client:
            r = await client.post(f"calls/{call_id}/listen", json={"supervisor": "105", "mode": mode})
            assert r.status_code == 202, r.text
            monitor_id = r.json()["monitor_id"]
        assert await supervisor.wait_invites(1) == 1  # the supervisor's phone is rung, and answers
        monitors = pbx.daemon.calls.monitors
        channels = pbx.daemon.calls.deps.ari.current
        if mode == "barge":  # everyone hears everyone: three in the call's bridge
            async with asyncio.timeout(10):
                while len(await in_bridge(pbx, call_id)) < 3:
                    await asyncio.sleep(0.05)
            assert await in_bridge(pbx, call_id) == {
                flow.caller_id,
                flow.callee_id,
                monitors.active[monitor_id].channel,
            }
        else:  # the call's bridge is untouched; the supervisor shares one with a snoop on 102's channel
            async with asyncio.timeout(10):
                while monitors.active[monitor_id].bridge is None:
                    await asyncio.sleep(0.05)
            monitor = monitors.active[monitor_id]
            bridges = {b["id"]: set(b["channels"]) for b in await channels.list_bridges()}
            async with asyncio.timeout(5):
                while len(bridges.get(monitor.bridge, ())) < 2:
                    await asyncio.sleep(0.05)
                    bridges = {b["id"]: set(b["channels"]) for b in await channels.list_bridges()}
            assert bridges[monitor.bridge] == {monitor.channel, monitor.snoop}
            assert await in_bridge(pbx, call_id) == {flow.caller_id, flow.callee_id}
            snoops = [c for c in await channels.list_channels() if c["id"] == monitor.snoop]
            assert snoops and snoops[0]["name"].startswith("Snoop/")
        result = await caller  # 102 hangs up after 5 s: the call ends, and the supervisor with it
        assert result.ok, result.stderr_tail
        await until(lambda: received(supervisor, "BYE"))
    assert monitors.active == {}
    event = await EventRecord.get(call_id=call_id, type="CallMonitored")
    assert (event.payload["mode"], event.payload["supervisor"]) == (mode, "105")


async def test_attended_transfer_consults_the_destination_then_completes(pbx):
    async with phone(pbx, "102") as operator, phone(pbx, "103") as target:
        caller, call_id, flow = await calling(pbx, "up")
        caller_channel, operator_channel = flow.caller_id, flow.callee_id
        async with api(pbx) as client:
            r = await client.post(
                f"calls/{call_id}/transfer", json={"destination": "ext:103", "attended": True}
            )
            assert r.status_code == 202 and r.json()["attended"] is True, r.text
            assert await target.wait_invites(1) == 1
            await until(lambda: flow.consult is not None and flow.consult.answered)
            consult = flow.consult.channel
            async with asyncio.timeout(5):  # the operator talks to 103; the caller waits with music
                while await in_bridge(pbx, call_id) != {operator_channel, consult}:
                    await asyncio.sleep(0.05)
            assert [c["state"] for c in (await client.get("calls/live")).json()] == ["held"]
            done = await client.post(f"calls/{call_id}/transfer/complete")
            assert done.status_code == 200 and done.json()["destination"] == "ext:103", done.text
            assert await in_bridge(pbx, call_id) == {caller_channel, consult}  # 101 talks to 103
            await until(lambda: received(operator, "BYE"))  # the operator is released
            assert (await client.delete(f"calls/{call_id}")).status_code == 204
        result = await caller
        assert result.ok, result.stderr_tail
        await until(lambda: received(target, "BYE"))
    (record,) = await pbx.wait_calls(1)
    legs = {leg.endpoint.split("-")[0]: leg.disposition for leg in record.legs}
    assert legs == {"PJSIP/101": "answered", "PJSIP/102": "transferred", "PJSIP/103": "answered"}
    stages = [
        e.payload["stage"]
        for e in await EventRecord.filter(call_id=call_id, type="CallTransferred").order_by("id")
    ]
    assert stages == ["consulting", "completed"]


async def test_attended_transfer_cancelled_brings_the_caller_back(pbx):
    async with phone(pbx, "102", "answer_hangup", hold_ms=6000), phone(pbx, "103") as target:
        caller, call_id, flow = await calling(pbx, "up")
        caller_channel, operator_channel = flow.caller_id, flow.callee_id
        async with api(pbx) as client:
            r = await client.post(
                f"calls/{call_id}/transfer", json={"destination": "ext:103", "attended": True}
            )
            assert r.status_code == 202, r.text
            await until(lambda: flow.consult is not None and flow.consult.answered)
            early = await client.post(f"calls/{call_id}/resume")
            assert early.status_code == 409  # resuming is cancelling here: said so
            cancelled = await client.post(f"calls/{call_id}/transfer/cancel")
            assert cancelled.status_code == 200, cancelled.text
        await until(lambda: received(target, "BYE"))  # 103 is hung up
        assert await in_bridge(pbx, call_id) == {caller_channel, operator_channel}
        result = await caller  # 102 hangs up after 6 s: the call ends
        assert result.ok, result.stderr_tail
    (record,) = await pbx.wait_calls(1)
    legs = {leg.endpoint.split("-")[0]: leg.disposition for leg in record.legs}
    assert legs == {"PJSIP/101": "answered", "PJSIP/102": "answered", "PJSIP/103": "cancelled"}
