"""Calls in progress through the API are seen and recorded only within the token's scope."""

from __future__ import annotations

from typing import Any

import httpx
import pytest_asyncio

from core.api import create_app
from core.config import Settings
from core.events import EventBus
from core.models import ApiToken, AuditEntry, User
from core.services import Services
from core.services.auth import hash_token

ADMIN, OWN = "a" * 32, "o" * 32
CALLS = [
    {"call_id": "c1", "caller": "101", "callee": "102", "state": "up"},
    {"call_id": "c2", "caller": "103", "callee": "104", "state": "up"},
]


class TwoCalls:
    """The daemon's read side with two answered calls."""

    def __init__(self) -> None:
        self.recorded: list[str] = []

    def health(self) -> dict[str, Any]:
        return {}

    def live_calls(self) -> list[dict[str, Any]]:
        return [dict(c) for c in CALLS]

    async def registrations(self) -> dict[str, bool]:
        return {}

    async def start_recording(self, call_id: str) -> str:
        self.recorded.append(call_id)
        return call_id

    async def stop_recording(self, call_id: str) -> None:
        self.recorded.remove(call_id)

    def live_queues(self) -> list[dict[str, Any]]:
        return []


@pytest_asyncio.fixture
async def api(db, tmp_path):
    services = Services.build(Settings(data_dir=tmp_path), EventBus())
    await services.auth.ensure_user("admin", "admin", ADMIN)
    olga = await User.create(name="olga", role="operator", scope="ext:101")
    await ApiToken.create(user=olga, name="default", token_hash=hash_token(OWN))
    daemon = TwoCalls()
    app = create_app(services, EventBus(), daemon)

    def client(token: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=("192.0.2.7", 50123))
        return httpx.AsyncClient(
            transport=transport, base_url="http://pbx/api", headers={"Authorization": f"Bearer {token}"}
        )

    return client, daemon


async def test_a_number_user_sees_only_the_live_calls_of_its_number(api):
    client, _ = api
    async with client(ADMIN) as admin, client(OWN) as own:
        assert [c["call_id"] for c in (await admin.get("/calls/live")).json()] == ["c1", "c2"]
        assert [c["call_id"] for c in (await own.get("/calls/live")).json()] == ["c1"]


async def test_a_number_user_may_record_its_own_calls_only(api):
    client, daemon = api
    async with client(OWN) as own:
        assert (await own.post("/calls/c1/recording")).status_code == 201
        refused = await own.post("/calls/c2/recording")
        assert refused.status_code == 403
        assert "acts on ext:101 only: call c2 is outside it" in refused.json()["error"]
    assert daemon.recorded == ["c1"]  # nothing changed for the other call
    assert await AuditEntry.filter(actor="olga", ok=False, target="c2").count() == 1
