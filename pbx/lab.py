"""A throwaway PBX on free loopback ports: a private Asterisk plus our daemon in the caller's loop.

Used by the integration tests and the benchmarks, so both exercise exactly what `pbx serve` runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import secrets
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asterisk.installer import AsteriskDist
from asterisk.instance import AsteriskInstance
from core.config import Settings
from core.daemon import Daemon
from core.db import database
from core.events import DomainEvent
from core.services.auth import SYSTEM
from pbx.instance import asterisk_instance


def free_tcp_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_sip_port() -> int:
    """A UDP port whose TCP twin is free too."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(("127.0.0.1", 0))
            port = int(u.getsockname()[1])
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            try:
                t.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue


@dataclass
class LabPbx:
    """A running lab PBX."""

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


def lab_settings(
    workdir: Path, *, ari_url: str | None = None, ari_http_port: int | None = None, **overrides: Any
) -> Settings:
    """Settings of a lab PBX under `workdir`: free ports, fresh secrets, the API on a free port.

    `ari_url` lets the daemon reach ARI some other way (e.g. through a proxy to `ari_http_port`).
    """
    sip, http = free_sip_port(), ari_http_port or free_tcp_port()
    rtp = random.randrange(20000, 59000, 1000)
    asterisk_cfg = {
        "sip_port": sip,
        "http_port": http,
        "rtp_start": rtp,
        "rtp_end": rtp + 998,
        "ari_password": secrets.token_hex(16),
        "ari_url": ari_url,
    }
    asterisk_cfg |= overrides.pop("asterisk", {})
    return Settings(
        data_dir=workdir / "data",
        asterisk=asterisk_cfg,
        api={"port": 0, "token": secrets.token_hex(24)} | overrides.pop("api", {}),
        recording={"dir": workdir / "ast" / "spool" / "recording"} | overrides.pop("recording", {}),
        security={"log_file": workdir / "ast" / "log" / "security.log"} | overrides.pop("security", {}),
        **overrides,
    )


def settings_env(settings: Settings) -> dict[str, str]:
    """The same settings as the PBX_* environment of a `pbx` process."""
    env = {}
    for name, value in settings.model_dump(exclude_none=True, exclude_defaults=True).items():
        section = value if isinstance(value, dict) else {"": value}
        for key, item in section.items():
            variable = f"PBX_{name.upper()}" + (f"__{key.upper()}" if key else "")
            env[variable] = json.dumps(item) if isinstance(item, list | dict) else str(item)
    return env


@contextlib.asynccontextmanager
async def lab_pbx(
    workdir: Path,
    dist: AsteriskDist,
    extensions: dict[str, str],
    *,
    ari_url: str | None = None,
    ari_http_port: int | None = None,
    **overrides: Any,
) -> AsyncIterator[LabPbx]:
    """Start Asterisk and the daemon with `extensions` ({number: password}); stop both afterwards.

    `ari_url` lets the daemon reach ARI some other way (e.g. through a proxy to `ari_http_port`).
    """
    settings = lab_settings(workdir, ari_url=ari_url, ari_http_port=ari_http_port, **overrides)
    inst = asterisk_instance(dist, workdir / "ast", settings)
    await asyncio.to_thread(inst.start)
    try:
        async with database(settings):
            daemon = Daemon(settings)
            for number, password in extensions.items():
                await daemon.extensions.add(SYSTEM, number, f"Phone {number}", password)
            async with daemon.running():
                lab = LabPbx(settings, inst, daemon)
                daemon.bus.add_handler(lab.events.append)
                await lab.wait_connected()
                yield lab
    finally:
        await asyncio.to_thread(inst.stop)
