"""The event stream follows its user: a revoked token or a removed user closes it (4401) at once, an expired
token before the next event, and a change of scope changes what it shows from then on."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from core.api import create_app
from core.config import Settings
from core.events import CallStarted, EventBus, UserChanged
from core.models import ApiToken, Extension, User
from core.services import Services
from core.services.auth import SYSTEM, hash_token
from core.services.event_scope import event_visible
from tests.unit.api_server import StandInDaemon, served


@pytest_asyncio.fixture
async def world(db, tmp_path):
    bus = EventBus()
    services = Services.build(Settings(data_dir=tmp_path), bus)
    await services.auth.ensure_user("admin", "admin", "a" * 32)
    for number in ("101", "201"):
        await Extension.create(number=number, name=number, sip_digest="x")
    await services.users.add(SYSTEM, "olga", "staff", "ext:101")
    token = (await services.tokens.create(SYSTEM, "olga", "desk")).token
    async with served(create_app(services, bus, StandInDaemon())) as address:
        yield services, bus, address, token


def stream(address: str, token: str):  # type: ignore[no-untyped-def]
    return connect(f"ws://{address}/api/events", additional_headers={"Authorization": f"Bearer {token}"})


async def next_event(ws: ClientConnection) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), 5))


async def closed_with(ws: ClientConnection) -> int | None:
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(ws.recv(), 5)
    return closed.value.rcvd.code if closed.value.rcvd else None


@pytest.mark.parametrize("how", ["revoke the token", "remove the user"])
async def test_the_stream_closes_once_its_token_stops_working(world, how):
    services, bus, address, token = world
    async with stream(address, token) as ws:
        assert (await next_event(ws))["type"] == "Snapshot"
        await bus.publish(CallStarted(call_id="c1", caller="101", callee="201"))
        assert (await next_event(ws))["call_id"] == "c1"
        if how == "revoke the token":
            await services.tokens.revoke(SYSTEM, "olga", "desk")
        else:
            await services.users.remove(SYSTEM, "olga")
        await bus.publish(CallStarted(call_id="c2", caller="101", callee="201"))
        assert await closed_with(ws) == 4401  # c2 never reached it


async def test_another_users_change_leaves_the_stream_open(world):
    services, bus, address, token = world
    async with stream(address, token) as ws:
        await next_event(ws)
        await services.users.add(SYSTEM, "sven", "staff", "ext:201")  # not olga's business: not shown
        await bus.publish(CallStarted(call_id="c1", caller="101", callee="201"))
        assert (await next_event(ws))["call_id"] == "c1"


async def test_an_expired_token_closes_the_stream_before_the_next_event(world):
    _, bus, address, _ = world
    olga = await User.get(name="olga")
    await ApiToken.create(
        user=olga,
        name="brief",
        token_hash=hash_token("brief-token"),
        expires_at=datetime.now(UTC) + timedelta(seconds=1),
    )
    async with stream(address, "brief-token") as ws:
        await next_event(ws)
        await asyncio.sleep(1.2)
        await bus.publish(CallStarted(call_id="c1", caller="101", callee="201"))
        assert await closed_with(ws) == 4401


async def test_a_new_scope_applies_to_the_open_stream(world):
    services, bus, address, token = world
    async with stream(address, token) as ws:
        await next_event(ws)
        await services.users.set(SYSTEM, "olga", scope="ext:201")
        await bus.publish(CallStarted(call_id="c1", caller="101", callee="102"))  # no longer olga's
        await bus.publish(CallStarted(call_id="c2", caller="201", callee="202"))
        seen = [await next_event(ws)]
        while seen[-1].get("call_id") != "c2":
            seen.append(await next_event(ws))
    assert [e.get("call_id") for e in seen if e["type"] == "CallStarted"] == ["c2"]


def test_user_changes_are_shown_to_readers_of_users_within_scope():
    def event(scope: str) -> UserChanged:
        return UserChanged(action="updated", actor="admin", user="x", role="staff", scope=scope)

    reads_users = {"users.read"}.__contains__
    assert event_visible(event("org"), reads_users, None)
    assert event_visible(event("ext:101"), reads_users, frozenset({"101", "102"}), "sales")
    assert event_visible(event("group:sales"), reads_users, frozenset({"101"}), "sales")
    assert not event_visible(event("ext:201"), reads_users, frozenset({"101", "102"}), "sales")
    assert not event_visible(event("org"), reads_users, frozenset({"101"}))
    assert not event_visible(event("org"), {"events.read"}.__contains__, None)
