"""Every refused attempt leaves an audit row (ok=False) with who, through what, from where, what was tried and
the error; unauthenticated requests are only logged (rate-limited), never audited."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio

from core.api import create_app
from core.api.bearer import UnauthenticatedLog
from core.config import Settings
from core.events import EventBus
from core.models import AuditEntry
from core.services import Services
from core.services.auth import SYSTEM
from tests.unit.daemon_process import free_port, running_daemon

TOKEN = "a" * 32
VIEWER_TOKEN = "v" * 32
SECRET = "never-in-the-log-42"


class NoDaemon:
    """The daemon's read side, with nothing running."""

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
        return []


@pytest_asyncio.fixture
async def client(db, tmp_path):
    services = Services.build(Settings(data_dir=tmp_path), EventBus())
    await services.auth.ensure_user("admin", "admin", TOKEN)
    await services.auth.ensure_user("wally", "viewer", VIEWER_TOKEN)
    await services.extensions.add(SYSTEM, "101")
    app = create_app(services, EventBus(), NoDaemon())

    def client(token: str | None = TOKEN, surface: str | None = "cli") -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if surface:
            headers["X-PBX-Client"] = surface
        transport = httpx.ASGITransport(app=app, client=("192.0.2.7", 50123))
        return httpx.AsyncClient(transport=transport, base_url="http://pbx/api", headers=headers)

    return client


async def refusals() -> list[tuple[str, str, str, str, str, str]]:
    rows = await AuditEntry.filter(ok=False).order_by("id")
    return [(r.actor, r.source, r.address, r.action, r.target, r.detail.get("error", "")) for r in rows]


async def test_each_kind_of_api_refusal_is_audited_once(client):
    async with client() as api:
        invalid = await api.post("/extensions", json={"number": "1x2", "password": SECRET})
        missing = await api.delete("/extensions/555")
        taken = await api.post("/extensions", json={"number": "101", "password": SECRET})
        malformed = await api.post("/extensions", json={"number": "102", "password": SECRET, "pin": 1})
        bad_query = await api.get("/calls", params={"limit": 0})
        too_large = await api.post("/extensions", content=b"{" + b" " * 70_000 + b"}")
    async with client(VIEWER_TOKEN, "console") as api:
        denied = await api.delete("/extensions/101")
    statuses = [r.status_code for r in (invalid, missing, taken, malformed, bad_query, too_large, denied)]
    assert statuses == [422, 404, 409, 422, 422, 413, 403]
    rows = await refusals()
    assert rows[:6] == [
        (
            "admin", "cli", "192.0.2.7", "POST /api/extensions", "1x2",
            "internal number '1x2' must be 2 to 4 digits (e.g. 101)",
        ),
        (
            "admin", "cli", "192.0.2.7", "DELETE /api/extensions/{number}", "555",
            "internal number 555 does not exist",
        ),
        ("admin", "cli", "192.0.2.7", "POST /api/extensions", "101", "internal number 101 already exists"),
        (
            "admin", "cli", "192.0.2.7", "POST /api/extensions", "102",
            "invalid request: pin: Extra inputs are not permitted",
        ),
        (
            "admin", "cli", "192.0.2.7", "GET /api/calls", "",
            "invalid request: limit: Input should be greater than or equal to 1",
        ),
        ("admin", "cli", "192.0.2.7", "POST /api/extensions", "", "request body too large (at most 64 KiB)"),
    ]  # fmt: skip
    # the denial was audited where it was decided, and only there
    assert rows[6:] == [("wally", "console", "192.0.2.7", "denied:extensions.write", "101", "")]
    assert all(SECRET not in repr(entry) for entry in await AuditEntry.all().values())


async def test_the_surface_is_what_the_client_says_it_is_among_the_known_ones(client):
    for surface in ("console", "bot", None):
        async with client(surface=surface) as api:
            assert (await api.patch("/extensions/101", json={"name": surface or "?"})).status_code == 200
    changes = await AuditEntry.filter(action="extension.update").order_by("id")
    assert [(c.source, c.address) for c in changes] == [("console", "192.0.2.7")] + [("api", "192.0.2.7")] * 2


async def test_unauthenticated_requests_are_logged_not_audited(client, caplog):
    before = await AuditEntry.all().count()
    with caplog.at_level(logging.WARNING, logger="core.api.bearer"):
        for token in (None, "wrong" * 8):
            async with client(token) as api:
                assert (await api.post("/extensions", json={"number": "150"})).status_code == 401
    assert await AuditEntry.all().count() == before
    assert [r.getMessage() for r in caplog.records] == [
        "refused a request without a valid bearer token from 192.0.2.7 to '/api/extensions'"
    ] * 2


def test_the_unauthenticated_log_is_rate_limited(caplog):
    now = [0.0]
    log = UnauthenticatedLog(per_minute=3, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="core.api.bearer"):
        for _ in range(1000):
            log.refused("198.51.100.1", "/api/extensions")
        now[0] = 61.0
        log.refused("198.51.100.2", "/api/health")
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 4
    assert lines[-1] == (
        "refused a request without a valid bearer token from 198.51.100.2 to '/api/health'"
        " (and 997 more not logged)"
    )


def _audit_rows(data_dir: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(data_dir / "pbx.sqlite3") as db:
        return db.execute("SELECT source, address, action, target, ok FROM auditentry ORDER BY id").fetchall()


def _pbx(*args: str, port: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pbx.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ | {"PBX_API__PORT": str(port)},
        check=False,
    )


def test_the_cli_through_the_daemon_is_audited_as_cli(tmp_path):
    with running_daemon(tmp_path / "serve.log") as (_, port):
        assert _pbx("ext", "add", "101", port=port).returncode == 0
        refused = _pbx("ext", "rm", "555", port=port)
        assert refused.returncode == 1 and "internal number 555 does not exist" in refused.stderr
    rows = _audit_rows(tmp_path / "data")
    assert ("cli", "127.0.0.1", "extension.add", "101", 1) in rows
    assert rows[-1] == ("cli", "127.0.0.1", "DELETE /api/extensions/{number}", "555", 0)


def test_the_cli_without_a_daemon_audits_its_refusals(tmp_path):
    refused = _pbx("ext", "rm", "555", port=free_port())  # nobody listens there: the CLI uses the database
    assert refused.returncode == 1 and refused.stderr.strip() == "error: internal number 555 does not exist"
    assert _audit_rows(tmp_path / "data") == [("cli", "local", "pbx ext rm", "555", 0)]
