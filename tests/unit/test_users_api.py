"""/api/users, /api/tokens and /api/audit through the app: a token is in the answer that creates it and
nowhere else; removing a user or revoking a token refuses it on the very next request; refusals are 403
naming the missing right, audited with the surface."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest_asyncio

from core.api import create_app
from core.config import Settings
from core.events import EventBus
from core.models import ApiToken, AuditEntry, EventRecord, Extension, User
from core.services import Services
from core.services.auth import hash_token
from tests.unit.api_server import StandInDaemon

ADMIN = "a" * 32


@pytest_asyncio.fixture
async def client(db, tmp_path):
    services = Services.build(Settings(data_dir=tmp_path), EventBus())
    await services.auth.ensure_user("admin", "admin", ADMIN)
    await Extension.create(number="101", name="Reception", sip_digest="x")
    app = create_app(services, EventBus(), StandInDaemon())

    def make(token: str, surface: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} | ({"X-PBX-Client": surface} if surface else {})
        transport = httpx.ASGITransport(app=app, client=("192.0.2.7", 50123))
        return httpx.AsyncClient(transport=transport, base_url="http://pbx/api", headers=headers)

    return make


async def test_an_admin_manages_users_through_the_api(client):
    async with client(ADMIN, "console") as admin:
        added = await admin.post("/users", json={"name": "alice", "role": "operator", "scope": "ext:101"})
        assert added.status_code == 201, added.text
        assert added.json() | {"created_at": None} == {
            "name": "alice",
            "role": "operator",
            "scope": "ext:101",
            "granted": [],
            "revoked": [],
            "slack_user_id": None,
            "telegram_chat_id": None,
            "tokens": 0,
            "created_at": None,
        }
        assert [u["name"] for u in (await admin.get("/users")).json()] == ["admin", "alice"]
        changed = await admin.patch(
            "/users/alice", json={"grant": ["calls.listen"], "telegram_chat_id": "42"}
        )
        assert changed.status_code == 200 and changed.json()["granted"] == ["calls.listen"]
        assert (await admin.get("/users/alice")).json()["telegram_chat_id"] == "42"
        assert (await admin.delete("/users/alice")).status_code == 204
        missing = await admin.get("/users/alice")
        assert (missing.status_code, missing.json()) == (404, {"error": "user alice does not exist"})
    row = await AuditEntry.get(action="user.update")
    assert (row.actor, row.source, row.address) == ("admin", "console", "192.0.2.7")
    assert row.detail["before"]["granted"] == [] and row.detail["after"]["granted"] == ["calls.listen"]


async def test_bad_bodies_and_the_first_admin_are_refused_in_one_error(client):
    async with client(ADMIN) as admin:
        for method, path, body, status, error in [
            ("POST", "/users", {"name": "bob", "role": "god"}, 422, "unknown role 'god'"),
            (
                "POST",
                "/users",
                {"name": "bob", "role": "staff", "rights": []},
                422,
                "invalid request: rights",
            ),
            ("PATCH", "/users/admin", {"role": "viewer"}, 409, "admin is the first admin"),
            ("DELETE", "/users/admin", None, 409, "admin is the first admin and cannot be removed"),
            ("POST", "/tokens", {"user": "admin", "expires": "forever"}, 422, "expiry 'forever' must be"),
            ("GET", "/audit?last=0", None, 422, "invalid request: last"),
        ]:
            answer = await admin.request(method, path, json=body)
            assert answer.status_code == status, (path, answer.text)
            assert error in answer.json()["error"], answer.json()
    refused = await AuditEntry.filter(ok=False).values_list("action", flat=True)
    assert "DELETE /api/users/{name}" in refused and "PATCH /api/users/{name}" in refused


async def test_a_token_is_shown_once_and_works_until_its_user_is_removed(client, caplog):
    caplog.set_level(logging.DEBUG)
    async with client(ADMIN) as admin:
        await admin.post("/users", json={"name": "alice", "role": "staff", "scope": "ext:101"})
        created = await admin.post("/tokens", json={"user": "alice", "name": "laptop", "expires": "30d"})
        assert created.status_code == 201
        token = created.json()["token"]
        assert created.json()["user"] == "alice" and created.json()["expires_at"]
        listed = await admin.get("/tokens", params={"user": "alice"})
        assert [t["name"] for t in listed.json()] == ["laptop"]
        everyone = await admin.get("/tokens", params={"all": "true"})
        assert (
            token not in listed.text + everyone.text and hash_token(token) not in listed.text + everyone.text
        )

        async with client(token) as alice:
            assert [e["number"] for e in (await alice.get("/extensions")).json()] == ["101"]
            assert (await alice.get("/extensions/101")).json()["name"] == "Reception"
            assert (await admin.delete("/users/alice")).status_code == 204
            gone = await alice.get("/extensions")  # the very next request
            assert (gone.status_code, gone.json()) == (401, {"error": "missing or invalid bearer token"})
    assert not await ApiToken.exists()
    stored = [str(r.detail) + r.target for r in await AuditEntry.all()] + [
        str(e.payload) for e in await EventRecord.all()
    ]
    assert not any(token in text or hash_token(token) in text for text in stored)
    assert token not in caplog.text


async def test_a_revoked_or_expired_token_is_refused(client):
    async with client(ADMIN) as admin:
        await admin.post("/users", json={"name": "alice", "role": "staff"})
        token = (await admin.post("/tokens", json={"user": "alice"})).json()["token"]
        alice_user = await User.get(name="alice")
        await ApiToken.create(
            user=alice_user,
            name="old",
            token_hash=hash_token("expired-token"),
            expires_at=datetime.now(UTC) - timedelta(minutes=1),
        )
        async with client(token) as alice, client("expired-token") as old:
            assert (await alice.get("/tokens")).status_code == 200  # its own tokens, no right needed
            assert (await old.get("/tokens")).status_code == 401
            assert (await admin.delete("/tokens/alice/default")).status_code == 204
            assert (await alice.get("/tokens")).status_code == 401


async def test_refusals_are_403_naming_the_missing_right_and_audited(client):
    async with client(ADMIN) as admin:
        await admin.post("/users", json={"name": "vic", "role": "viewer"})
        token = (await admin.post("/tokens", json={"user": "vic"})).json()["token"]
    async with client(token) as vic:
        for method, path, body, right in [
            ("GET", "/users", None, "users.read"),
            ("POST", "/users", {"name": "eve", "role": "admin"}, "users.write"),
            ("PATCH", "/users/vic", {"role": "admin"}, "users.write"),
            ("DELETE", "/users/admin", None, "users.write"),
            ("POST", "/tokens", {"user": "admin"}, "users.write"),
            ("GET", "/tokens?all=true", None, "users.read"),
            ("GET", "/audit", None, "audit.read"),
        ]:
            answer = await vic.request(method, path, json=body)
            assert answer.status_code == 403, (path, answer.text)
            assert f"vic (viewer) lacks {right}" in answer.json()["error"]
    assert not await User.exists(name="eve") and (await User.get(name="vic")).role == "viewer"
    denied = await AuditEntry.filter(actor="vic", ok=False).values_list("action", "source")
    assert len(denied) == 7 and {source for _, source in denied} == {"api"}


async def test_the_audit_log_through_the_api(client):
    async with client(ADMIN, "cli") as admin:
        await admin.post("/users", json={"name": "alice", "role": "staff"})
        await admin.patch("/users/alice", json={"role": "viewer"})
        rows = (await admin.get("/audit", params={"user": "admin", "last": 2})).json()
    assert [(r["action"], r["target"], r["source"], r["ok"]) for r in rows] == [
        ("user.update", "alice", "cli", True),
        ("user.add", "alice", "cli", True),
    ]
    assert rows[0]["detail"]["before"]["role"] == "staff" and rows[0]["detail"]["after"]["role"] == "viewer"
