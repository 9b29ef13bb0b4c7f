"""Webhooks of real calls: a batch of sipp calls through Asterisk and our app, a receiver that fails, then
is down, then comes back; and `pbx serve` killed with SIGKILL in the middle of delivery. Every event
arrives, signed, at least once; each id once after de-duplication; in order within each call."""

from __future__ import annotations

import asyncio

import pytest

from core.models import EventRecord
from core.notify.webhooks.channel import SEQUENCED
from core.services.auth import SYSTEM
from pbxtest.sipp import SippPhone, place_call
from pbxtest.webhooks import Receiver
from tests.integration.conftest import PASSWORDS

pytestmark = [
    pytest.mark.integration,
    pytest.mark.pbx_settings(
        webhooks={"allow_private": True}, outbox={"backoff_base": 0.1, "backoff_max": 0.5}
    ),
]
EVENTS = "internal,answer,hangup"


def check_delivery(got, expected: dict[str, str]) -> None:
    """Each expected event id (→ its call) arrived, verified, once after de-duplication, in call order."""
    assert all(r.verified for r in got), "a signature did not verify"
    first: dict[str, dict] = {}
    for r in got:
        assert r.id == r.data["event_id"]
        first.setdefault(r.id, r.data)
    assert set(first) == set(expected)
    for call_id in set(expected.values()):
        mine = [d for d in (r.data for r in got) if d["call_id"] == call_id]
        seen: list[int] = []
        for d in mine:  # duplicates may come again, but nothing of a call arrives before what precedes it
            if d["sequence"] not in seen:
                assert d["sequence"] == len(seen) + 1, (call_id, [x["sequence"] for x in mine])
                seen.append(d["sequence"])
        assert [first[i]["event"] for i in first if expected[i] == call_id] == [
            "internal",
            "answer",
            "hangup",
        ]


async def expected_events(call_ids) -> dict[str, str]:
    rows = await EventRecord.filter(call_id__in=list(call_ids), type__in=list(SEQUENCED)).order_by("id")
    return {str(r.id): r.call_id for r in rows if r.type in ("CallStarted", "CallAnswered", "CallEnded")}


async def test_every_event_of_a_batch_of_calls_survives_a_failing_then_absent_receiver(pbx):
    receiver = Receiver().start()
    receiver.answer = 500
    new = await pbx.daemon.services.webhooks.add(SYSTEM, receiver.url, EVENTS)
    receiver.secret = new.secret
    await pbx.daemon.webhooks.load()
    try:
        async with SippPhone("102", PASSWORDS["102"], pbx.sip_port, "answer"):
            calls = [place_call("101", PASSWORDS["101"], "102", pbx.sip_port, hold_ms=300) for _ in range(4)]
            results = [await c for c in calls]  # one after another: sipp's phone takes one call at a time
            assert all(r.ok for r in results), [r.stderr_tail for r in results if not r.ok]
        records = await pbx.wait_calls(4)
        await asyncio.sleep(1.0)  # 500s meanwhile
        assert receiver.received and not receiver.delivered()
        receiver.stop()  # then nobody listens at all
        await asyncio.sleep(1.5)
        receiver.answer = 200
        receiver.start()  # back, on the same port
        expected = await expected_events(r.call_id for r in records)
        got = await receiver.until(lambda r: len({x.id for x in r}) >= len(expected), timeout=20)
    finally:
        receiver.stop()
    assert len(expected) == 12
    check_delivery(got, expected)
    log = await pbx.daemon.services.webhooks.log(SYSTEM, new.webhook.id, limit=1000)
    codes = {entry["status_code"] for entry in log}
    assert {200, 500, None} <= codes  # delivered, refused, and not reached at all (connection refused)


async def test_a_daemon_killed_in_the_middle_of_delivery_loses_nothing(tmp_path, asterisk_dist):
    from tests.integration.test_daemon_restart import daemon_port, daemon_process

    receiver = Receiver().start()
    receiver.delay = 0.3  # slow: deliveries are in flight when the daemon dies
    try:
        async with daemon_process(
            tmp_path,
            asterisk_dist,
            webhooks={"allow_private": True},
            outbox={"backoff_base": 0.2, "backoff_max": 1.0},
        ) as daemon:
            answer = await daemon.api.post("webhooks", json={"url": receiver.url, "events": EVENTS})
            assert answer.status_code == 201, answer.text
            receiver.secret = answer.json()["secret"]
            async with SippPhone("102", PASSWORDS["102"], daemon_port(daemon), "answer"):
                for _ in range(3):
                    result = await place_call(
                        "101", PASSWORDS["101"], "102", daemon_port(daemon), hold_ms=200
                    )
                    assert result.ok, result.stderr_tail
            await receiver.until(lambda r: len(r) >= 2, timeout=20)
            daemon.kill()  # SIGKILL: no goodbye, some items sent, one or more in flight
            delivered_before = len(receiver.delivered())
            daemon.start()
            await daemon.wait_connected()
            page = (await daemon.api.get("events", params={"after": 0, "limit": 1000})).json()
            expected = {
                str(e["id"]): e["call_id"]
                for e in page["events"]
                if e["type"] in ("CallStarted", "CallAnswered", "CallEnded")
            }
            got = await receiver.until(lambda r: len({x.id for x in r}) >= len(expected), timeout=30)
            dead = (await daemon.api.get("outbox", params={"status": "dead"})).json()
    finally:
        receiver.stop()
    assert len(expected) == 9 and delivered_before < 9
    check_delivery(got, expected)
    assert dead == []


async def test_a_recorded_calls_webhook_links_to_its_audio_for_a_token_holder(pbx):
    import httpx

    receiver = Receiver().start()
    new = await pbx.daemon.services.webhooks.add(SYSTEM, receiver.url, "recording")
    receiver.secret = new.secret
    await pbx.daemon.webhooks.load()
    await pbx.daemon.recordings.set_policy(SYSTEM, "ext:102", "always")
    try:
        async with SippPhone("102", PASSWORDS["102"], pbx.sip_port, "answer"):
            result = await place_call("101", PASSWORDS["101"], "102", pbx.sip_port, hold_ms=2000)
            assert result.ok, result.stderr_tail
        (hook,) = await receiver.until(lambda r: len(r) == 1, timeout=15)
    finally:
        receiver.stop()
    (record,) = await pbx.wait_calls(1)
    recording = hook.data["recording"]
    assert hook.verified and hook.data["call_id"] == record.call_id and recording["id"] == record.call_id
    assert recording["url"] == f"http://127.0.0.1:{pbx.daemon.api_port}/api/recordings/{record.call_id}/audio"
    async with httpx.AsyncClient(trust_env=False) as http:
        assert (await http.get(recording["url"])).status_code == 401  # a link for token holders only
        token = {"Authorization": f"Bearer {pbx.settings.api.token}"}
        whole = await http.get(recording["url"], headers=token)
        part = await http.get(recording["url"], headers=token | {"Range": "bytes=0-3"})
    assert whole.status_code == 200 and whole.content[:4] == b"RIFF" and len(whole.content) > 1000
    assert part.status_code == 206 and part.content == b"RIFF"
