"""Integration fixtures: a real Asterisk on free ports, our daemon in this test's loop, sipp phones.

Nothing here is faked: calls are SIP over loopback, through Asterisk, decided by our Stasis app.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest
import pytest_asyncio

from asterisk.installer import install, load
from core.models import Call, CallLeg, EventRecord
from pbx.lab import LabPbx, free_tcp_port, lab_pbx
from tests.integration.proxy import TcpProxy

PASSWORDS = {n: f"pw-{n}-secret" for n in ("101", "102", "103", "104", "105")}

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def asterisk_dist():
    """The Asterisk the tests run: installed once (cached under the machine's data dir)."""
    if shutil.which("sipp") is None:
        pytest.fail("sipp is not installed (apt-get install sip-tester); `make test` installs it")
    dist_dir = Path(
        os.environ.get("PBX_ASTERISK__DIST_DIR") or "~/.local/share/pbx/asterisk/dist"
    ).expanduser()
    return load(dist_dir) or install(dist_dir, progress=False)


class Pbx(LabPbx):
    """A lab PBX with the queries the tests ask of it."""

    proxy: TcpProxy | None = None

    async def wait_calls(self, count: int, timeout: float = 15) -> list[Call]:
        """Until `count` call records are closed; returns them oldest first, with legs."""
        async with asyncio.timeout(timeout):
            while await Call.exclude(ended_at=None).count() < count:
                await asyncio.sleep(0.05)
        return await Call.exclude(ended_at=None).order_by("started_at").prefetch_related("legs")

    async def event_types(self, call_id: str) -> list[str]:
        """The persisted events of one call, in order."""
        return [e.type for e in await EventRecord.filter(call_id=call_id).order_by("id")]

    @staticmethod
    def legs(call: Call) -> dict[str, CallLeg]:
        return {leg.role: leg for leg in call.legs}


@pytest_asyncio.fixture
async def pbx(tmp_path, asterisk_dist, request):
    """Asterisk + database + daemon with internal numbers 101–105 (known passwords), ring timeout 3 s.

    With `@pytest.mark.ari_proxy` the daemon reaches ARI through a TCP proxy the test can cut; with
    `@pytest.mark.pbx_settings(section={...})` those sections are set (webhooks={"allow_private": True}).
    """
    proxy, kw = None, {}
    if marker := request.node.get_closest_marker("pbx_settings"):
        kw |= marker.kwargs
    if request.node.get_closest_marker("ari_proxy"):
        http = free_tcp_port()
        proxy = await TcpProxy("127.0.0.1", http).start()
        kw |= {"ari_http_port": http, "ari_url": f"http://127.0.0.1:{proxy.port}/"}
    try:
        async with lab_pbx(
            tmp_path,
            asterisk_dist,
            PASSWORDS,
            **(
                {
                    "calls": {"ring_timeout": 3},
                    "ari": {"liveness_interval": 0.5, "liveness_timeout": 1.5, "reconnect_max": 1},
                }
                | kw
            ),
        ) as lab:
            pbx = Pbx(lab.settings, lab.asterisk, lab.daemon, lab.events)
            pbx.proxy = proxy
            yield pbx
    finally:
        if proxy:
            await proxy.stop()
