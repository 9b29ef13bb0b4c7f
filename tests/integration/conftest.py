"""Integration fixtures: a real Asterisk on free ports, our daemon in this test's loop, sipp phones.

Nothing here is faked: calls are SIP over loopback, through Asterisk, decided by our Stasis app.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from asterisk.installer import install, load
from asterisk.instance import AsteriskInstance
from core.config import Settings, ensure_secrets, load_settings
from core.daemon import Daemon
from core.db import database
from core.events import DomainEvent
from core.models import Call, CallLeg, EventRecord
from core.services.auth import SYSTEM
from tests.integration.proxy import TcpProxy

PASSWORDS = {n: f"pw-{n}-secret" for n in ("101", "102", "103", "104", "105")}

pytestmark = pytest.mark.integration


def _free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _free_sip_port() -> int:
    # Asterisk binds UDP; keep the TCP twin free as well so nothing else grabs it meanwhile.
    while True:
        port = _free_port(socket.SOCK_DGRAM)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue


@pytest.fixture(scope="session")
def asterisk_dist():
    """The Asterisk the tests run: installed once (cached under the data dir of the machine)."""
    if shutil.which("sipp") is None:
        pytest.fail("sipp is not installed (apt-get install sip-tester); .ci/run installs it")
    dist_dir = Path(os.environ.get("PBX_ASTERISK__DIST_DIR") or "~/.local/share/pbx/asterisk/dist").expanduser()
    return load(dist_dir) or install(dist_dir, progress=False)


@dataclass
class Pbx:
    """A running PBX for one test."""

    settings: Settings
    asterisk: AsteriskInstance
    daemon: Daemon
    events: list[DomainEvent] = field(default_factory=list)

    @property
    def sip_port(self) -> int:
        return self.settings.asterisk.sip_port

    async def wait_connected(self, connections: int = 1, timeout: float = 20) -> None:
        """Until the daemon has made its Nth ARI connection and is up."""
        async with asyncio.timeout(timeout):
            while not (self.daemon.ari.connected.is_set() and self.daemon.ari.connections >= connections):
                await asyncio.sleep(0.05)

    async def wait_calls(self, count: int, timeout: float = 15) -> list[Call]:
        """Until `count` call records are closed; returns them oldest first, with legs."""
        async with asyncio.timeout(timeout):
            while await Call.exclude(ended_at=None).count() < count:
                await asyncio.sleep(0.05)
        return await Call.exclude(ended_at=None).order_by("started_at").prefetch_related("legs")

    async def event_types(self, call_id: str) -> list[str]:
        """The persisted events of one call, in order."""
        return [e.type for e in await EventRecord.filter(call_id=call_id).order_by("id")]

    def legs(self, call: Call) -> dict[str, CallLeg]:
        return {leg.role: leg for leg in call.legs}


async def _start_pbx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dist: Any, ari_via_proxy: bool):
    sip, http = _free_sip_port(), _free_port()
    rtp = random.randrange(20000, 59000, 1000)
    env = {
        "PBX_DATA_DIR": str(tmp_path / "data"),
        "PBX_ASTERISK__SIP_PORT": str(sip),
        "PBX_ASTERISK__HTTP_PORT": str(http),
        "PBX_ASTERISK__RTP_START": str(rtp),
        "PBX_ASTERISK__RTP_END": str(rtp + 998),
        "PBX_API__PORT": "0",
        "PBX_CALLS__RING_TIMEOUT": "3",
        "PBX_ARI__LIVENESS_INTERVAL": "0.5",
        "PBX_ARI__LIVENESS_TIMEOUT": "1.5",
        "PBX_ARI__RECONNECT_MAX": "1",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    settings = ensure_secrets(load_settings())
    proxy = None
    if ari_via_proxy:
        proxy = await TcpProxy("127.0.0.1", http).start()
        monkeypatch.setenv("PBX_ASTERISK__ARI_URL", f"http://127.0.0.1:{proxy.port}/")
        settings = load_settings()
    inst = AsteriskInstance(
        dist, tmp_path / "ast", sip_port=sip, http_port=http, rtp_start=rtp, rtp_end=rtp + 998,
        ari_user=settings.asterisk.ari_user, ari_password=settings.asterisk.ari_password,
        app=settings.asterisk.app,
    )
    await asyncio.to_thread(inst.start)
    return settings, inst, proxy


@pytest_asyncio.fixture
async def pbx(tmp_path, monkeypatch, asterisk_dist, request):
    """Asterisk + database + daemon with internal numbers 101–105 (known passwords)."""
    via_proxy = request.node.get_closest_marker("ari_proxy") is not None
    settings, inst, proxy = await _start_pbx(tmp_path, monkeypatch, asterisk_dist, via_proxy)
    try:
        async with database(settings):
            daemon = Daemon(settings)
            for number, password in PASSWORDS.items():
                await daemon.extensions.add(SYSTEM, number, f"Phone {number}", password)
            async with daemon.running():
                p = Pbx(settings, inst, daemon)
                p.proxy = proxy  # type: ignore[attr-defined]
                daemon.bus.add_handler(p.events.append)
                await p.wait_connected()
                yield p
    finally:
        if proxy:
            await proxy.stop()
        await asyncio.to_thread(inst.stop)
