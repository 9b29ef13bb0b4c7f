"""Calls survive a crash of the daemon: the real `pbx serve` process, killed with SIGKILL mid-call.

Asterisk bridges the call, so the phones go on talking while the daemon is away; the restarted daemon
takes the call over and closes its record (and its legs) when it really ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.db import database
from core.events import EventBus
from core.services import Services
from core.services.auth import SYSTEM
from pbx.instance import asterisk_instance
from pbx.lab import free_tcp_port, lab_settings, settings_env
from pbxtest.sipp import SippPhone, place_call
from tests.integration.conftest import PASSWORDS

pytestmark = pytest.mark.integration


@dataclass
class DaemonProcess:
    """`pbx serve` as its own process, next to a lab Asterisk."""

    env: dict[str, str]
    log: Path
    api: httpx.AsyncClient
    ari: httpx.AsyncClient
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pbx.cli", "serve", "--logfile", str(self.log)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    async def wait_connected(self, timeout: float = 30) -> None:
        async with asyncio.timeout(timeout):
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    r = await self.api.get("health")
                    if r.status_code == 200 and r.json()["ari_connected"]:
                        return
                assert self.proc is not None and self.proc.poll() is None, self.log.read_text()[-3000:]
                await asyncio.sleep(0.1)

    async def live_calls(self) -> list[dict]:
        return (await self.api.get("calls/live")).json()

    async def rtp(self, channel_id: str) -> dict[str, int]:
        """Asterisk's RTP counters of one channel (packets sent to and received from its phone)."""
        stats = (await self.ari.get(f"channels/{channel_id}/rtp_statistics")).json()
        return {"tx": stats["txcount"], "rx": stats["rxcount"]}


@contextlib.asynccontextmanager
async def daemon_process(tmp_path: Path, dist, **overrides: Any) -> AsyncIterator[DaemonProcess]:
    """`pbx serve` and a lab Asterisk, with 101 and 102; `overrides`: settings sections added."""
    settings = lab_settings(
        tmp_path,
        api={"port": free_tcp_port()},
        ari={"liveness_interval": 0.5, "reconnect_max": 1},
        **overrides,
    )
    inst = asterisk_instance(dist, tmp_path / "ast", settings)
    await asyncio.to_thread(inst.start)
    async with database(settings):  # the sample phones, before the daemon provisions them
        services = Services.build(settings, EventBus())
        for number in ("101", "102"):
            await services.extensions.add(SYSTEM, number, f"Phone {number}", PASSWORDS[number])
    env = {k: v for k, v in os.environ.items() if not k.startswith("PBX_")} | settings_env(settings)
    ast = settings.asterisk
    async with (
        httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{settings.api.port}/api/",
            headers={"Authorization": f"Bearer {settings.api.token}"},
        ) as api,
        httpx.AsyncClient(base_url=f"{ast.base_url}ari/", auth=(ast.ari_user, ast.ari_password)) as ari,
    ):
        daemon = DaemonProcess(env, tmp_path / "pbx.log", api, ari)
        try:
            daemon.start()
            await daemon.wait_connected()
            yield daemon
        finally:
            if daemon.proc and daemon.proc.poll() is None:
                daemon.proc.terminate()
                daemon.proc.wait(timeout=20)
            await asyncio.to_thread(inst.stop)


async def test_an_answered_call_survives_a_daemon_crash_and_is_closed_when_it_ends(tmp_path, asterisk_dist):
    async with (
        daemon_process(tmp_path, asterisk_dist) as daemon,
        SippPhone("102", PASSWORDS["102"], daemon_port(daemon), "answer"),  # echoes what it hears
    ):
        # 30 s of audio from the caller (echoed back by 102), then it holds 2 s more and hangs up itself
        call = asyncio.create_task(
            place_call(
                "101", PASSWORDS["101"], "102", daemon_port(daemon), "long_audio_caller_bye", hold_ms=2000
            )
        )
        async with asyncio.timeout(15):
            while not (live := [c for c in await daemon.live_calls() if c["state"] == "up"]):
                await asyncio.sleep(0.1)
        (before,) = live
        await asyncio.sleep(5)
        channels = [c["id"] for c in (await daemon.ari.get("channels")).json()]
        assert len(channels) == 2

        daemon.kill()
        await asyncio.sleep(1)
        daemon.start()
        await daemon.wait_connected()

        (after,) = await daemon.live_calls()  # taken over: the same call, still up
        assert (after["call_id"], after["state"], after["answered_at"]) == (
            before["call_id"],
            "up",
            before["answered_at"],
        )
        counters = {c: await daemon.rtp(c) for c in channels}
        await asyncio.sleep(3)
        for channel in channels:  # both phones still send, and hear, audio through the bridge
            now = await daemon.rtp(channel)
            assert now["rx"] > counters[channel]["rx"] + 50, channel
            assert now["tx"] > counters[channel]["tx"] + 50, channel

        result = await call
        assert result.ok, result.stderr_tail  # no BYE from the PBX: the caller hung up itself, at the end
        async with asyncio.timeout(10):
            while await daemon.live_calls():
                await asyncio.sleep(0.1)
        (record,) = (await daemon.api.get("calls", params={"limit": 5})).json()
    assert (record["call_id"], record["disposition"]) == (before["call_id"], "answered")
    assert record["ended_at"] and record["duration"] > 30
    assert {leg["role"]: (leg["disposition"], bool(leg["ended_at"])) for leg in record["legs"]} == {
        "caller": ("answered", True),
        "callee": ("answered", True),
    }
    assert "ended 0 orphaned" not in daemon.log.read_text()


def daemon_port(daemon: DaemonProcess) -> int:
    return int(daemon.env["PBX_ASTERISK__SIP_PORT"])


async def test_a_call_still_ringing_when_the_daemon_crashed_is_ended_and_its_record_closed(
    tmp_path, asterisk_dist
):
    async with (
        daemon_process(tmp_path, asterisk_dist) as daemon,
        SippPhone("102", PASSWORDS["102"], daemon_port(daemon), "ring") as p102,  # rings for ever
    ):
        call = asyncio.create_task(
            place_call("101", PASSWORDS["101"], "102", daemon_port(daemon), "expect_failure", timeout=40)
        )
        async with asyncio.timeout(15):
            while not [c for c in await daemon.live_calls() if c["state"] == "ringing"]:
                await asyncio.sleep(0.1)
            # the legs are written alongside the ringing: the crash comes once they are on disk
            while len((await daemon.api.get("calls", params={"limit": 5})).json()[0]["legs"]) < 2:
                await asyncio.sleep(0.1)
        daemon.kill()
        await asyncio.sleep(1)
        daemon.start()
        await daemon.wait_connected()
        result = await call
        assert result.ok and result.final_code == 503  # told at once, not left waiting in silence
        assert p102.invites_received() == 1
        async with asyncio.timeout(5):  # the caller is told first; 102's ringing and the record follow
            while (await daemon.ari.get("channels")).json() or not (
                record := (await daemon.api.get("calls", params={"limit": 5})).json()[0]
            )["ended_at"]:
                await asyncio.sleep(0.1)
        assert await daemon.live_calls() == []
    assert record["disposition"] == "interrupted" and record["ended_at"]
    assert [(leg["disposition"], bool(leg["ended_at"])) for leg in record["legs"]] == [
        ("interrupted", True)
    ] * 2
