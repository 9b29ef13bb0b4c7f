"""IVR menus and call queues through the API: bodies validated, errors as one clear message, the live queue
board as the daemon keeps it, and who may do what."""

from __future__ import annotations

import io
import wave
from typing import Any

import httpx
import pytest
import pytest_asyncio

from core.api import MAX_PROMPT_BYTES, create_app
from core.calls.queues import QueueBoard
from core.config import Settings
from core.events import EventBus
from core.services import Services
from core.services.auth import SYSTEM
from core.services.internal import config

TOKEN = "a" * 32
OPERATOR_TOKEN = "o" * 32
VIEWER_TOKEN = "v" * 32


def wav(rate: int = 8000, seconds: float = 0.2) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\0\0" * int(rate * seconds))
    return buffer.getvalue()


class BoardDaemon:
    """The daemon's read side around a real QueueBoard (no Asterisk: 101's phone is registered, 102's not)."""

    def __init__(self, board: QueueBoard) -> None:
        self.board = board

    def health(self) -> dict[str, Any]:
        return {}

    def live_calls(self) -> list[dict[str, Any]]:
        return []

    async def registrations(self) -> dict[str, bool]:
        return {}

    async def start_recording(self, call_id: str) -> str:
        raise NotImplementedError

    async def stop_recording(self, call_id: str) -> None:
        raise NotImplementedError

    def live_queues(self) -> list[dict[str, Any]]:
        return self.board.snapshot()


@pytest_asyncio.fixture
async def pbx(db, tmp_path):
    bus = EventBus()
    services = Services.build(Settings(data_dir=tmp_path), bus)
    await services.auth.ensure_user("admin", "admin", TOKEN)
    await services.auth.ensure_user("oscar", "operator", OPERATOR_TOKEN)
    await services.auth.ensure_user("wally", "viewer", VIEWER_TOKEN)
    for number in ("101", "102", "103"):
        await services.extensions.add(SYSTEM, number)
    # the board is told nobody is on a call (set() is empty)
    board = QueueBoard(config.queue_info, {"101"}.__contains__, set, bus.publish)
    app = create_app(services, bus, BoardDaemon(board))

    def client(token: str = TOKEN) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://pbx/api",
            headers={"Authorization": f"Bearer {token}"},
        )

    yield client, board, tmp_path
    board.close()


async def test_ivr_menu_round_trip(pbx):
    client, _, _ = pbx
    async with client() as api:
        made = await api.put(
            "/ivrs/main", json={"prompt": "sound:demo-instruct", "number": "500", "timeout": 4}
        )
        assert made.status_code == 200, made.text
        assert (await api.put("/ivrs/sales", json={"prompt": "sound:demo-congrats"})).status_code == 200
        assert (await api.put("/ivrs/main/options/1", json={"destination": "ext:102"})).status_code == 200
        hashed = await api.put("/ivrs/main/options/%23", json={"destination": "ivr:sales"})  # key #
        assert hashed.json()["options"] == {"#": "ivr:sales", "1": "ext:102"}
        changed = await api.put(
            "/ivrs/main", json={"direct_dial": True, "repeat_key": "", "fallback": "ext:101"}
        )
        assert changed.status_code == 200, changed.text
        assert (await api.delete("/ivrs/main/options/1")).status_code == 204
        one = (await api.get("/ivrs/main")).json()
        listed = (await api.get("/ivrs")).json()
        in_use = await api.delete("/ivrs/sales")  # main's # key still leads there
        assert in_use.status_code == 409 and "key # of IVR main" in in_use.text, in_use.text
        assert (await api.delete("/ivrs/main/options/%23")).status_code == 204
        assert (await api.delete("/ivrs/sales")).status_code == 204
        gone = await api.get("/ivrs/sales")
    assert one == {
        "name": "main",
        "number": "500",
        "prompt": "sound:demo-instruct",
        "options": {"#": "ivr:sales"},
        "direct_dial": True,
        "timeout": 4,
        "attempts": 3,
        "repeat_key": None,  # "" turned repeating off; fields not given were kept
        "fallback": "ext:101",
    }
    assert [m["name"] for m in listed] == ["main", "sales"]
    assert gone.status_code == 404 and gone.json() == {"error": "IVR menu sales does not exist"}


async def test_prompt_upload_takes_the_wav_bytes_and_names_the_clients_file_in_errors(pbx):
    client, _, data_dir = pbx
    async with client() as api:
        await api.put("/ivrs/main", json={"prompt": "sound:demo-instruct"})
        uploaded = await api.put(
            "/ivrs/main/prompt",
            content=wav(),
            params={"filename": "menu.wav"},
            headers={"Content-Type": "audio/wav"},
        )
        cd_quality = await api.put("/ivrs/main/prompt", content=wav(44100), params={"filename": "song.wav"})
        junk = await api.put("/ivrs/main/prompt", content=b"not a wav at all")
        nobody = await api.put("/ivrs/nobody/prompt", content=wav())
    assert uploaded.status_code == 200, uploaded.text
    stored = data_dir / "sounds" / "ivr-main.wav"
    assert uploaded.json()["prompt"] == f"sound:{stored.with_suffix('')}"
    assert stored.read_bytes() == wav()
    assert cd_quality.status_code == 422
    message = cd_quality.json()["error"]
    assert message.startswith("song.wav is 44100 Hz") and "sox song.wav -r 8000" in message
    assert "/tmp" not in message  # not the daemon's temporary copy
    assert junk.status_code == 422 and junk.json()["error"] == "prompt.wav is not a WAV file"
    assert nobody.status_code == 404 and nobody.json()["error"] == "IVR menu nobody does not exist"


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "message"),
    [
        ("put", "/ivrs/new", {"number": "501"}, 422, "a new IVR menu needs a prompt"),
        ("put", "/ivrs/main", {"prompt": "sound:x", "colour": "red"}, 422, "invalid request: colour"),
        ("put", "/ivrs/main", {"timeout": "soon"}, 422, "invalid request: timeout"),
        ("put", "/ivrs/main", {"timeout": 99}, 422, "between 1 and 60 seconds"),
        ("put", "/ivrs/main/options/x", {"destination": "ext:101"}, 422, "must be one of 0-9, * or #"),
        ("put", "/ivrs/main/options/2", {"destination": "group:nope"}, 404, "group nope does not exist"),
        ("put", "/ivrs/main/options/2", {}, 422, "invalid request: destination: Field required"),
        ("delete", "/ivrs/main/options/9", None, 404, "IVR main has no option 9"),
        ("put", "/ivrs/main", {"number": "101"}, 409, "internal number 101 is already used by a phone"),
    ],
)
async def test_bad_ivr_requests_get_one_clear_error(pbx, method, path, body, status, message):
    client, _, _ = pbx
    async with client() as api:
        await api.put("/ivrs/main", json={"prompt": "sound:demo-instruct"})
        kwargs = {"json": body} if body is not None else {}
        response = await api.request(method.upper(), path, **kwargs)
    assert response.status_code == status, response.text
    assert message in response.json()["error"]


async def test_queue_and_agents_round_trip(pbx):
    client, _, _ = pbx
    async with client() as api:
        made = await api.put(
            "/queues/support",
            json={"number": "600", "strategy": "longest_idle", "overflow": "voicemail:101", "max_wait": 120},
        )
        assert made.status_code == 200, made.text
        first = await api.post("/queues/support/agents/101", json={"timeout": 20, "delay_busy": 5})
        second = await api.post("/queues/support/agents/102")  # no body: the defaults
        twice = await api.post("/queues/support/agents/102")
        paused = await api.post("/queues/support/agents/102/pause")
        out = await api.post("/queues/support/agents/101/logout")
        shown = (await api.get("/queues/support")).json()
        resumed = await api.post("/queues/support/agents/102/resume")
        back = await api.post("/queues/support/agents/101/login")
        assert (await api.put("/queues/support", json={"wrapup": 0})).status_code == 200
        assert (await api.delete("/queues/support/agents/102")).status_code == 204
        after = (await api.get("/queues")).json()
        assert (await api.delete("/queues/support")).status_code == 204
        gone = await api.get("/queues/support")
    assert first.status_code == 201 and first.json()["timeout"] == 20 and first.json()["delay_busy"] == 5
    assert second.status_code == 201 and second.json()["delay_reject"] == 30 and second.json()["logged_in"]
    assert twice.status_code == 409 and twice.json()["error"] == "102 is already an agent of queue support"
    assert paused.json()["paused"] is True and out.json()["logged_in"] is False
    assert shown["strategy"] == "longest_idle" and shown["overflow"] == "voicemail:101"
    assert [(a["number"], a["logged_in"], a["paused"]) for a in shown["agents"]] == [
        ("101", False, False),
        ("102", True, True),
    ]
    assert resumed.json()["paused"] is False and back.json()["logged_in"] is True
    assert [(q["name"], q["max_wait"], q["wrapup"], [a["number"] for a in q["agents"]]) for q in after] == [
        ("support", 120, 0, ["101"])  # settings not given were kept, and so were the agents
    ]
    assert gone.status_code == 404 and gone.json() == {"error": "queue support does not exist"}


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "message"),
    [
        ("put", "/queues/support", {"strategy": "loudest"}, 422, "unknown queue strategy 'loudest'"),
        ("put", "/queues/support", {"max_wait": 1}, 422, "max wait must be between 5 and 7200"),
        ("put", "/queues/support", {"overflow": "queue:support"}, 422, "cannot overflow to itself"),
        ("put", "/queues/Bad!", {}, 422, "queue name must be letters"),
        ("post", "/queues/support/agents/999", {}, 404, "internal number 999 does not exist"),
        ("post", "/queues/support/agents/+15551234567", {}, 404, "no trunk can reach the remote agent"),
        ("post", "/queues/support/agents/101", {"delay_busy": -1}, 422, "delay after busy must be between"),
        ("post", "/queues/support/agents/101", {"priority": 1}, 422, "invalid request: priority"),
        ("post", "/queues/nope/agents/101", {}, 404, "queue nope does not exist"),
        ("post", "/queues/support/agents/103/pause", None, 404, "103 is not an agent of queue support"),
        ("delete", "/queues/support/agents/103", None, 404, "103 is not an agent of queue support"),
    ],
)
async def test_bad_queue_requests_get_one_clear_error(pbx, method, path, body, status, message):
    client, _, _ = pbx
    async with client() as api:
        await api.put("/queues/support", json={})
        kwargs = {"json": body} if body is not None else {}
        response = await api.request(method.upper(), path, **kwargs)
    assert response.status_code == status, response.text
    assert message in response.json()["error"]


async def test_live_queues_show_what_each_agent_does_and_who_waits(pbx):
    client, board, _ = pbx
    async with client() as api:
        await api.put("/queues/support", json={})
        for number in ("101", "102", "103"):
            await api.post(f"/queues/support/agents/{number}")
        await api.post("/queues/support/agents/103/pause")
    runtime = await board.open("support")  # what the daemon does on the queue's events
    assert runtime is not None
    board.join(runtime, "call-1", "+15557654321", lambda: None)
    async with client(VIEWER_TOKEN) as api:  # the wallboard: may watch, may not change
        live = await api.get("/queues/live")
        refused = await api.post("/queues/support/agents/101/logout")
    assert live.status_code == 200, live.text
    [support] = live.json()
    assert support["queue"] == "support"
    assert {a["number"]: a["state"] for a in support["agents"]} == {
        "101": "ready",
        "102": "unregistered",  # its phone is not registered
        "103": "paused",
    }
    assert [(w["position"], w["caller"], w["call_id"]) for w in support["waiting"]] == [
        (1, "+15557654321", "call-1")
    ]
    assert refused.status_code == 403


async def test_operators_run_agents_but_do_not_configure_queues(pbx):
    client, _, _ = pbx
    async with client() as api:
        await api.put("/queues/support", json={})
        await api.post("/queues/support/agents/101")
    async with client(OPERATOR_TOKEN) as api:
        paused = await api.post("/queues/support/agents/101/pause")
        logged_out = await api.post("/queues/support/agents/101/logout")
        listed = await api.get("/queues")
        changed = await api.put("/queues/support", json={"wrapup": 0})
        added = await api.post("/queues/support/agents/102")
        menu = await api.put("/ivrs/main", json={"prompt": "sound:demo-instruct"})
    assert paused.status_code == 200 and logged_out.status_code == 200
    assert listed.status_code == 200 and [q["name"] for q in listed.json()] == ["support"]
    assert changed.status_code == added.status_code == menu.status_code == 403


async def test_no_token_no_access(pbx):
    client, _, _ = pbx
    async with client("wrong") as api:
        for path in ("/ivrs", "/queues", "/queues/live"):
            assert (await api.get(path)).status_code == 401


async def test_a_prompt_larger_than_minutes_of_audio_is_refused(pbx):
    client, _, _ = pbx
    async with client() as api:
        await api.put("/ivrs/main", json={"prompt": "sound:demo-instruct"})
        huge = await api.put(
            "/ivrs/main/prompt", content=b"\0" * (MAX_PROMPT_BYTES + 1), params={"filename": "x.wav"}
        )
    assert huge.status_code == 413 and huge.json()["error"] == "prompt too large (at most 10 MiB)"
    assert MAX_PROMPT_BYTES / 16000 / 60 > 5  # 8 kHz, 16-bit, mono is 16 kB a second: minutes of prompt fit
