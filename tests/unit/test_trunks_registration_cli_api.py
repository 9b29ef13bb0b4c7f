"""Registering trunks through the command line and the API: the password goes in, and never comes out."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.api import create_app
from core.config import Settings
from core.events import EventBus
from core.models import Trunk
from core.services import Services

SECRET = "s3cret-Pa55"
TOKEN = "t" * 32


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def pbx(monkeypatch):
    monkeypatch.setenv("PBX_API__PORT", str(free_port()))  # no daemon there: the CLI uses the database

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "pbx.cli", *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    return run


TRUNK = ("trunk", "add", "carrier", "--host", "127.0.0.2", "--caller-id", "+15550001000")


def test_registering_trunk_from_the_command_line_never_shows_its_password(pbx):
    # the password is read from stdin (or a hidden prompt at a terminal): not in ps, not in the history
    added = pbx(*TRUNK, "--username", "pbx01", "--register", stdin=f"{SECRET}\n")
    assert added.returncode == 0, added.stderr
    assert "trunk carrier added (127.0.0.2:5060, registers as pbx01)" in added.stdout
    plain = pbx("trunk", "add", "plain", "--host", "127.0.0.3", "--caller-id", "+15550001000")
    assert plain.returncode == 0, plain.stderr
    listed = pbx("trunk", "list")
    assert listed.returncode == 0, listed.stderr
    carrier = next(line for line in listed.stdout.splitlines() if "carrier" in line)
    assert "pbx01" in carrier and "yes" in carrier
    assert "?" in carrier  # no local Asterisk running: the live state is unknown, not made up
    plain_row = next(line for line in listed.stdout.splitlines() if "plain" in line)
    assert "pbx01" not in plain_row and "?" not in plain_row
    assert SECRET not in added.stdout + added.stderr + listed.stdout + listed.stderr


def test_credentials_given_as_options(pbx):
    added = pbx(*TRUNK, "--username", "pbx01", "--password", SECRET)
    assert added.returncode == 0, added.stderr
    assert "authenticates as pbx01" in added.stdout and SECRET not in added.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--register",), "a registering trunk needs its --username and --password"),
        (("--username", "pbx01@evil", "--password", SECRET), "trunk username 'pbx01@evil' must be"),
        (("--password", SECRET), "trunk username missing"),
    ],
)
def test_bad_credentials_get_one_clear_line(pbx, args, message):
    result = pbx(*TRUNK, *args)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout and SECRET not in result.stderr


class IdleDaemon:
    """The daemon's read side with nothing going on (no Asterisk)."""

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


async def test_api_adds_a_registering_trunk_and_never_returns_its_password(db):
    bus = EventBus()
    services = Services.build(Settings(data_dir=Path("/nonexistent")), bus)
    await services.auth.ensure_user("admin", "admin", TOKEN)
    app = create_app(services, bus, IdleDaemon())
    headers = {"Authorization": f"Bearer {TOKEN}"}
    body = {
        "name": "carrier",
        "host": "127.0.0.2",
        "caller_id": "+15550001000",
        "username": "pbx01",
        "password": SECRET,
        "registers": True,
    }
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://pbx", headers=headers) as api:
        added = await api.post("/api/trunks", json=body)
        listed = await api.get("/api/trunks")
        refused = await api.post("/api/trunks", json=body | {"name": "other", "password": None})
    assert added.status_code == 201, added.text
    assert added.json()["registers"] is True and added.json()["username"] == "pbx01"
    assert [(t["name"], t["registers"]) for t in listed.json()] == [("carrier", True)]
    assert SECRET not in added.text + listed.text
    assert refused.status_code == 422 and "trunk password missing" in refused.json()["error"]
    assert (await Trunk.get(name="carrier")).password == SECRET
