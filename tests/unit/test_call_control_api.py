"""Live call control through the API, against the real call engine on a fake Asterisk: who may act on
which call (right and scope), the refusals with what to do instead, and that a refusal changes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest_asyncio

from core.api import create_app
from core.config import Settings
from core.events import EventBus
from core.models import ApiToken, AuditEntry, Extension, User
from core.routing.forwarding import ExtensionInfo
from core.services import Services
from core.services.auth import hash_token
from tests.unit.api_server import StandInDaemon
from tests.unit.calls.fake_ari import CallLab, FakeLookups

TOKENS = {"admin": "a" * 32, "olga": "o" * 32, "sam": "s" * 32, "vera": "v" * 32}


class Daemon(StandInDaemon):
    """The daemon's read side over the lab's call engine."""

    def __init__(self, lab: CallLab) -> None:
        super().__init__()
        self.lab = lab

    def live_calls(self) -> list[dict[str, Any]]:
        return [c.to_dict() for c in self.lab.manager.live.values()]


@pytest_asyncio.fixture
async def setup(db, tmp_path):
    numbers = ("101", "102", "103", "104")
    for number in numbers:
        await Extension.create(number=number, name=f"Phone {number}", sip_digest="0" * 32)
    lab = await CallLab(
        FakeLookups(phones={n: ExtensionInfo(n, f"Phone {n}") for n in numbers}), online=numbers
    ).start()
    bus = EventBus()
    published: list[Any] = []
    bus.add_handler(published.append)
    services = Services.build(Settings(data_dir=tmp_path), bus)
    services.live_calls.control = lab.manager.control
    await services.auth.ensure_user("admin", "admin", TOKENS["admin"])
    for name, role, scope in (
        ("olga", "operator", "ext:101"),
        ("sam", "operator", "ext:103"),
        ("vera", "viewer", "org"),
    ):
        user = await User.create(name=name, role=role, scope=scope)
        await ApiToken.create(user=user, name="default", token_hash=hash_token(TOKENS[name]))
    app = create_app(services, bus, Daemon(lab))

    def client(name: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("192.0.2.7", 50123)),
            base_url="http://pbx/api",
            headers={"Authorization": f"Bearer {TOKENS[name]}"},
        )

    yield lab, client, published
    for task in lab.manager._tasks:
        task.cancel()


async def _answered(lab: CallLab) -> str:
    lab.call("101", "102")
    (callee,) = await lab.dialled()
    lab.answer(callee)
    await lab.until(lambda: [c for c in lab.manager.live.values() if c.state == "up"])
    (call_id,) = lab.manager.live
    return call_id


async def test_a_number_user_controls_its_own_calls(setup):
    lab, client, published = setup
    call_id = await _answered(lab)
    async with client("olga") as olga:
        held = await olga.post(f"/calls/{call_id}/hold", json={"party": "callee"})
        assert held.status_code == 200 and held.json() == {"call_id": call_id, "held": "callee"}
        resumed = await olga.post(f"/calls/{call_id}/resume")
        assert resumed.json() == {"call_id": call_id, "resumed": "callee"}
        moved = await olga.post(f"/calls/{call_id}/transfer", json={"destination": "ext:104"})
        assert moved.status_code == 202, moved.text
        assert moved.json() == {
            "call_id": call_id,
            "party": "caller",
            "destination": "ext:104",
            "attended": False,
        }
    assert [type(e).__name__ for e in published if type(e).__name__.startswith("Call")] == [
        "CallHeld",
        "CallResumed",
        "CallTransferred",
    ]
    actions = [a.action for a in await AuditEntry.filter(actor="olga").order_by("id")]
    assert actions == ["call.hold", "call.resume", "call.transfer"]


async def test_outside_its_scope_or_without_the_right_a_user_gets_403_and_nothing_changes(setup):
    lab, client, published = setup
    call_id = await _answered(lab)
    async with client("sam") as sam, client("vera") as vera:
        other = await sam.post(f"/calls/{call_id}/transfer", json={"destination": "ext:103"})
        assert other.status_code == 403
        assert other.json()["error"] == f"sam acts on ext:103 only: call {call_id} is outside it"
        viewer = await vera.delete(f"/calls/{call_id}")
        assert viewer.status_code == 403 and "lacks calls.control" in viewer.json()["error"]
        assert (await vera.get("/calls/live")).status_code == 200  # reading is its right
    assert lab.ari.sent("remove_from_bridge") == [] and not any(
        args[0] == lab.manager.control.table.of_call(call_id).caller_id for args in lab.ari.sent("hangup")
    )
    assert published == []
    refused = {(a.actor, a.action) for a in await AuditEntry.filter(ok=False)}
    assert refused == {("sam", "denied:calls.control"), ("vera", "denied:calls.control")}


async def test_refusals_say_what_is_wrong(setup):
    lab, client, _ = setup
    lab.call("101", "102")
    await lab.dialled()
    (call_id,) = lab.manager.live
    await lab.until(lambda: lab.manager.live[call_id].state == "ringing")
    async with client("admin") as admin:
        early = await admin.post(f"/calls/{call_id}/transfer", json={"destination": "ext:103"})
        assert early.status_code == 409
        assert early.json()["error"] == (
            f"call {call_id} is not answered, so it cannot be transferred: redirect it instead"
        )
        nowhere = await admin.post(f"/calls/{call_id}/redirect", json={"destination": "ext:199"})
        assert (nowhere.status_code, nowhere.json()["error"]) == (404, "internal number 199 does not exist")
        bad = await admin.post(f"/calls/{call_id}/redirect", json={"destination": "room:5"})
        assert bad.status_code == 422 and "unknown destination" in bad.json()["error"]
        party = await admin.post(f"/calls/{call_id}/hold", json={"party": "both"})
        assert (party.status_code, party.json()["error"]) == (422, "party 'both' must be caller or callee")
        ended = await admin.delete("/calls/no-such-call")
        assert ended.status_code == 404
        assert ended.json()["error"] == "no call no-such-call in progress: it has ended, or never was"
        extra = await admin.post(f"/calls/{call_id}/redirect", json={"destination": "ext:103", "x": 1})
        assert extra.status_code == 422
    assert lab.manager.live[call_id].state == "ringing"  # nothing changed
    assert len(lab.ari.sent("originate")) == 1


async def test_listening_needs_calls_listen_and_a_supervisor_within_scope(setup):
    lab, client, published = setup
    call_id = await _answered(lab)
    async with client("olga") as olga, client("admin") as admin:
        refused = await olga.post(f"/calls/{call_id}/listen", json={"supervisor": "101"})
        assert refused.status_code == 403 and "lacks calls.listen" in refused.json()["error"]
        mode = await admin.post(f"/calls/{call_id}/listen", json={"supervisor": "104", "mode": "spy"})
        assert (mode.status_code, mode.json()["error"]) == (
            422,
            "mode 'spy' must be listen, whisper or barge",
        )
        nobody = await admin.post(f"/calls/{call_id}/listen", json={"supervisor": "199"})
        assert nobody.status_code == 404
        ok = await admin.post(f"/calls/{call_id}/listen", json={"supervisor": "104", "mode": "whisper"})
        assert ok.status_code == 202, ok.text
        assert {k: ok.json()[k] for k in ("supervisor", "mode", "party")} == {
            "supervisor": "104",
            "mode": "whisper",
            "party": "callee",
        }
    assert lab.ari.sent("originate")[-1][0] == "PJSIP/104"
    assert [type(e).__name__ for e in published] == ["CallMonitored"]
