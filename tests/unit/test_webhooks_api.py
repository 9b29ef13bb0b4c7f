"""/api/webhooks, /api/outbox, /api/missed, /api/stats and the event log through the app: the secret is in
the answer that makes it only; receivers inside the network are refused unless allowed; a user scoped to
one number manages its own number's subscriptions only; the log replays what a client missed."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import pytest_asyncio
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from core.api import create_app
from core.config import Settings, WebhookSettings
from core.events import CallStarted, EventBus
from core.models import AuditEntry, Call, EventRecord, Extension, MissedCall
from core.services import Services
from core.services.auth import SYSTEM
from tests.unit.api_server import StandInDaemon, served

ADMIN = "a" * 32


@pytest_asyncio.fixture
async def world(db, tmp_path):
    bus = EventBus()
    services = Services.build(Settings(data_dir=tmp_path, webhooks=WebhookSettings(allow_private=True)), bus)
    await services.auth.ensure_user("admin", "admin", ADMIN)
    for number in ("101", "102"):
        await Extension.create(number=number, name=number, sip_digest="x")
    await services.users.add(SYSTEM, "olga", "staff", "ext:101")
    await services.users.set(SYSTEM, "olga", grant=["webhooks.read", "webhooks.write"])
    olga = (await services.tokens.create(SYSTEM, "olga", "desk")).token
    app = create_app(services, bus, StandInDaemon())

    def client(token: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=("192.0.2.7", 50123))
        return httpx.AsyncClient(
            transport=transport, base_url="http://pbx/api", headers={"Authorization": f"Bearer {token}"}
        )

    return services, bus, app, client, olga


async def test_the_secret_is_answered_once_and_never_listed_or_audited(world):
    _services, _, _, client, _ = world
    async with client(ADMIN) as admin:
        made = await admin.post(
            "/webhooks", json={"url": "http://127.0.0.1:9/h", "events": ["hangup", "missed"]}
        )
        assert made.status_code == 201, made.text
        secret = made.json()["secret"]
        assert secret.startswith("whsec_")
        listed = (await admin.get("/webhooks")).json()
        assert [w["events"] for w in listed] == [["hangup", "missed"]] and "secret" not in listed[0]
        one = await admin.get(f"/webhooks/{made.json()['id']}")
        assert "secret" not in one.json() and secret not in one.text
        rotated = await admin.post(f"/webhooks/{made.json()['id']}/rotate")
        assert rotated.json()["secret"] not in (secret, None) and rotated.json()["rotating_until"]
        assert (await admin.get("/webhooks/events")).json()["agent-state"]
    rows = await AuditEntry.all()
    assert any(r.action == "webhook.add" for r in rows)
    dumped = json.dumps([r.detail for r in rows]) + json.dumps([e.payload for e in await EventRecord.all()])
    assert secret not in dumped and rotated.json()["secret"] not in dumped


async def test_bad_bodies_and_receivers_inside_the_network(world, tmp_path):
    _, _, _, client, _ = world
    async with client(ADMIN) as admin:
        bad = await admin.post("/webhooks", json={"url": "ftp://x/h", "events": "hangup"})
        assert bad.status_code == 422 and "http(s) URL" in bad.json()["error"]
        bad = await admin.post("/webhooks", json={"url": "http://127.0.0.1:9/h", "events": "hangup,nope"})
        assert bad.status_code == 422 and "unknown webhook event 'nope'" in bad.json()["error"]
        bad = await admin.post(
            "/webhooks", json={"url": "http://127.0.0.1:9/h", "events": "all", "secret": "x"}
        )
        assert bad.status_code == 422 and "whsec_" in bad.json()["error"]
        bad = await admin.post(
            "/webhooks", json={"url": "http://127.0.0.1:9/h", "events": "all", "number": "555"}
        )
        assert bad.status_code == 404
    strict = Services.build(Settings(data_dir=tmp_path), EventBus())
    app = create_app(strict, EventBus(), StandInDaemon())
    transport = httpx.ASGITransport(app=app, client=("192.0.2.7", 50123))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://pbx/api", headers={"Authorization": f"Bearer {ADMIN}"}
    ) as admin:
        refused = await admin.post("/webhooks", json={"url": "http://10.0.0.5/h", "events": "hangup"})
    assert refused.status_code == 422 and "webhooks.allow_private" in refused.json()["error"]


async def test_a_user_scoped_to_one_number_manages_only_its_own_subscriptions(world):
    services, _, _, client, olga = world
    org = await services.webhooks.add(SYSTEM, "http://127.0.0.1:9/org", "all")
    async with client(olga) as own:
        mine = await own.post(
            "/webhooks", json={"url": "http://127.0.0.1:9/o", "events": "hangup", "number": "101"}
        )
        assert mine.status_code == 201, mine.text
        other = await own.post(
            "/webhooks", json={"url": "http://127.0.0.1:9/o", "events": "hangup", "number": "102"}
        )
        assert other.status_code == 403
        wide = await own.post("/webhooks", json={"url": "http://127.0.0.1:9/o", "events": "hangup"})
        assert wide.status_code == 403 and "org scope" in wide.json()["error"]
        assert [w["number"] for w in (await own.get("/webhooks")).json()] == ["101"]
        assert (await own.delete(f"/webhooks/{org.webhook.id}")).status_code == 403
        assert (await own.get("/outbox")).status_code == 403  # the outbox is the organisation's
        assert (await own.post(f"/webhooks/{mine.json()['id']}/test")).status_code == 202
        assert (await own.delete(f"/webhooks/{mine.json()['id']}")).status_code == 204


async def test_dead_letters_are_listed_and_sent_again_through_the_api(world):
    services, _bus, _, client, _ = world
    from core.models import OutboxItem

    sub = await services.webhooks.add(SYSTEM, "http://127.0.0.1:9/h", "hangup")
    for status in ("dead", "dead", "delivered"):
        await OutboxItem.create(
            channel="webhook", destination=str(sub.webhook.id), event_id=1, event_type="hangup",
            payload={}, status=status, next_attempt_at="2026-01-01T00:00:00+00:00", last_error="HTTP 500",
        )  # fmt: skip
    async with client(ADMIN) as admin:
        dead = (await admin.get("/outbox", params={"status": "dead"})).json()
        assert len(dead) == 2 and {d["last_error"] for d in dead} == {"HTTP 500"}
        assert (await admin.post("/outbox/retry", json={"id": dead[0]["id"]})).json() == {"retried": 1}
        assert (await admin.post("/outbox/retry", json={"all": True})).json() == {"retried": 1}
        assert (await admin.post("/outbox/retry", json={})).status_code == 422
        assert (await admin.get("/outbox", params={"status": "dead"})).json() == []
        assert (await admin.get("/outbox", params={"status": "nope"})).status_code == 422


async def test_missed_calls_through_the_api_scoped_and_handled(world):
    _services, _, _, client, olga = world
    for i, numbers in enumerate((["101"], ["102"])):
        call = await Call.create(
            call_id=f"c{i}",
            caller="+15557654321",
            callee="+15550001000",
            started_at="2026-12-04T09:00:00+00:00",
        )
        await MissedCall.create(
            call=call,
            caller=call.caller,
            callee=call.callee,
            numbers=numbers,
            reason="no_answer",
            at=call.started_at,
        )
    async with client(olga) as own:
        (mine,) = (await own.get("/missed")).json()
        assert mine["numbers"] == ["101"] and mine["status"] == "open"
        handled = await own.post(f"/missed/{mine['id']}/handle")
        assert handled.status_code == 200 and handled.json()["resolved_by"] == "olga"
        again = await own.post(f"/missed/{mine['id']}/handle")
        assert again.status_code == 422 and "handled already" in again.json()["error"]
        assert (await own.get("/missed", params={"open": True})).json() == []
        others = (await MissedCall.get(call_id="c1")).id  # 102's: outside olga's scope
        refused = await own.post(f"/missed/{others}/handle")
        assert refused.status_code == 403 and "outside it" in refused.json()["error"]
    async with client(ADMIN) as admin:
        listed = (await admin.get("/missed")).json()
        assert [m["status"] for m in listed] == ["open", "handled"]  # open ones first
        assert (await admin.get("/missed", params={"since": "soon"})).status_code == 422


async def test_the_event_log_pages_and_the_stream_replays_what_a_client_missed(world):
    _services, bus, app, client, olga = world
    for i in range(5):
        await bus.publish(CallStarted(call_id=f"c{i}", caller="102" if i % 2 else "101", callee="105"))
    async with client(olga) as own:  # scoped to 101: sees c0, c2, c4
        first = (await own.get("/events", params={"after": 0, "limit": 3})).json()
        ids = [e["call_id"] for e in first["events"] if e["type"] == "CallStarted"]
        rest = (await own.get("/events", params={"after": first["next_after"]})).json()
        ids += [e["call_id"] for e in rest["events"] if e["type"] == "CallStarted"]
    assert ids == ["c0", "c2", "c4"] and first["more"] and not rest["more"]
    after = (await EventRecord.get(type="CallStarted", call_id="c0")).id
    async with served(app) as address:
        headers = {"Authorization": f"Bearer {ADMIN}"}
        async with connect(f"ws://{address}/api/events?after={after}", additional_headers=headers) as ws:
            got = [json.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in range(5)]
            await bus.publish(CallStarted(call_id="live", caller="101", callee="105"))
            live = json.loads(await asyncio.wait_for(ws.recv(), 5))
    replayed = [g["call_id"] for g in got if g["type"] == "CallStarted"]
    assert replayed == ["c1", "c2", "c3", "c4"] and got[-1]["type"] == "Snapshot"
    assert live["call_id"] == "live"


async def test_odd_ids_and_dates_are_4xx_never_500(world):
    _, _, app, client, _ = world
    async with client(ADMIN) as admin:
        for path in ("/webhooks/²", "/webhooks/99999999999999999999", "/webhooks/-1"):
            assert (await admin.get(path)).status_code == 404, path
        assert (await admin.post("/missed/²/handle")).status_code == 404
        assert (await admin.get("/events", params={"after": 10**20})).status_code == 422
        assert (await admin.post("/outbox/retry", json={"id": 10**20})).status_code == 422
        for since in ("9999-12-31", "0001-01-01", "99999w"):
            answer = await admin.get("/stats/queues", params={"from": since})
            assert answer.status_code == 422, (since, answer.text)
        assert (await admin.get("/stats/queues", params={"to": "8999-12-31"})).status_code == 200
    async with served(app) as address:
        headers = {"Authorization": f"Bearer {ADMIN}"}
        async with connect(f"ws://{address}/api/events?after=abc", additional_headers=headers) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400
