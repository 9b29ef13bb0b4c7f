"""The daemon survives what production throws at it: a cut ARI link, an Asterisk restart, a failing call."""

from __future__ import annotations

import asyncio

import pytest

from core.routing.forwarding import decide_internal
from pbxtest.sipp import SippPhone, place_call
from tests.integration.conftest import PASSWORDS

pytestmark = pytest.mark.integration


async def _answered_call_works(pbx, caller="101", callee="102"):
    async with SippPhone(callee, PASSWORDS[callee], pbx.sip_port, "answer"):
        result = await place_call(
            caller, PASSWORDS[caller], callee, pbx.sip_port, "answered_caller_bye", hold_ms=300
        )
    assert result.ok, result.stderr_tail
    return result


@pytest.mark.ari_proxy
async def test_ari_websocket_cut_then_asterisk_restart(pbx):
    await _answered_call_works(pbx)

    # 1. The network drops every ARI connection (websocket included) mid-session.
    assert pbx.proxy.cut() >= 2
    await pbx.wait_connected(connections=2, timeout=20)
    assert pbx.daemon.health()["ari_connected"]
    await _answered_call_works(pbx)

    # 2. Asterisk itself restarts: registrations and pushed endpoints are gone with it.
    await asyncio.to_thread(pbx.asterisk.stop)
    async with asyncio.timeout(10):
        while pbx.daemon.ari.connected.is_set():
            await asyncio.sleep(0.05)
    assert pbx.daemon.health()["status"] == "degraded"
    await asyncio.to_thread(pbx.asterisk.start)
    await pbx.wait_connected(connections=3, timeout=30)
    # phones register again (as real phones do) to endpoints the daemon re-provisioned by itself
    await _answered_call_works(pbx)

    records = await pbx.wait_calls(3)
    assert [r.disposition for r in records] == ["answered"] * 3


async def test_call_handler_exception_ends_that_call_only(pbx, monkeypatch):
    def decide(caller, dialled, callee, online):
        if dialled == "105":
            raise RuntimeError("injected routing failure")
        return decide_internal(caller, dialled, callee, online)

    monkeypatch.setattr("core.calls.loop.decide_internal", decide)
    async with SippPhone("102", PASSWORDS["102"], pbx.sip_port, "answer"):
        # a healthy call is up while another one fails
        healthy = asyncio.create_task(
            place_call("103", PASSWORDS["103"], "102", pbx.sip_port, "answered_caller_bye", hold_ms=2500)
        )
        await asyncio.sleep(1.0)
        failed = await place_call("101", PASSWORDS["101"], "105", pbx.sip_port, "expect_failure")
        assert failed.ok and failed.final_code == 503  # the caller is told the PBX failed, not left hanging
        assert (await healthy).ok
        after = await place_call(
            "101", PASSWORDS["101"], "102", pbx.sip_port, "answered_caller_bye", hold_ms=300
        )
        assert after.ok
    records = {r.callee: r for r in await pbx.wait_calls(3)}
    assert (records["105"].disposition, records["105"].sip_code) == ("failed", 503)
    assert records["102"].disposition == "answered"
    assert await pbx.event_types(records["105"].call_id) == ["CallStarted", "CallEnded"]


async def test_wrong_ari_password_is_reported_clearly(pbx, tmp_path):
    from core.config import Settings
    from core.daemon import Daemon

    settings = Settings(
        data_dir=tmp_path / "other",
        asterisk=pbx.settings.asterisk.model_dump() | {"ari_password": "not-the-password"},
        api={"port": 0, "token": "t" * 32},
        ari={"reconnect_max": 0.5},
    )
    other = Daemon(settings)
    async with other.running():
        async with asyncio.timeout(10):
            while "refused the ARI credentials" not in other.health()["ari_error"]:
                await asyncio.sleep(0.1)
        assert other.health()["status"] == "degraded"
    assert pbx.daemon.health()["ari_connected"]  # the real daemon is unaffected


async def test_calls_left_by_a_previous_daemon_are_ended_at_resync(pbx, monkeypatch):
    # As after a daemon restart mid-call: the caller sits in our Stasis app with no flow that owns it.
    monkeypatch.setitem(pbx.daemon.calls._stasis_dispatch, "internal", lambda event, args: None)
    orphan = asyncio.create_task(
        place_call("101", PASSWORDS["101"], "102", pbx.sip_port, "expect_failure", timeout=20)
    )
    async with asyncio.timeout(10):
        while not [
            c for c in await pbx.daemon.ari.client.list_channels() if c["id"] not in pbx.daemon.calls.table
        ]:
            await asyncio.sleep(0.1)
    await pbx.daemon.calls.resync(pbx.daemon.ari.client)
    result = await orphan
    assert result.ok and result.final_code == 503  # told at once, not left in silence
    assert await pbx.daemon.ari.client.list_channels() == []
