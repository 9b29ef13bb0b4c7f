"""pbxtest.sipp's phones and calls against a stand-in PBX on loopback (sipp itself, see sipp_stand_in):
each call scenario's outcome, timeouts and kills, a phone's registration, calls and unregistration."""

from __future__ import annotations

import asyncio

import pytest

from pbxtest import sipp
from pbxtest.sipp import (
    SippError,
    SippPhone,
    free_port_pair,
    free_udp_port,
    place_call,
    run_calls,
)
from tests.unit.sipp_stand_in import REGISTRAR, assert_result, challenged, needs_sipp, stand_in


@needs_sipp
async def test_answered_caller_bye(tmp_path):
    async with stand_in(tmp_path, challenged("answer")) as port:
        r = await place_call("101", "pw", "102", port, "answered_caller_bye", hold_ms=200, timeout=10)
    assert_result(r, True, 200, [100, 180, 200])
    assert r.returncode == 0 and 0 < r.setup_ms < 1000
    assert 'Digest username="101"' in r.message_log and "m=audio" in r.message_log


@needs_sipp
async def test_answered_wait_bye(tmp_path):
    async with stand_in(tmp_path, challenged("answer_hangup"), "-d", "200") as port:
        r = await place_call("101", "pw", "102", port, "answered_wait_bye", timeout=10)
    assert_result(r, True, 200, [100, 180, 200])


@needs_sipp
async def test_expect_failure_busy(tmp_path):
    async with stand_in(tmp_path, challenged("busy")) as port:
        r = await place_call("101", "pw", "102", port, "expect_failure", timeout=10)
    assert_result(r, True, 486, [100, 486])


@needs_sipp
async def test_expect_failure_answered_counts_as_failure(tmp_path):
    async with stand_in(tmp_path, challenged("answer")) as port:
        r = await place_call("101", "pw", "102", port, "expect_failure", timeout=10)
    assert_result(r, False, 200, [100, 180, 200])
    assert r.returncode == 1  # scenario stop_call after hanging up cleanly
    with pytest.raises(SippError, match="final_code=200"):
        r.check()


@needs_sipp
async def test_cancel(tmp_path):
    async with stand_in(tmp_path, challenged("ring")) as port:
        r = await place_call("101", "pw", "102", port, "cancel", timeout=10)
    assert_result(r, True, 487, [100, 180, 487])
    assert "CANCEL sip:102@" in r.message_log


@needs_sipp
async def test_run_calls(tmp_path):
    async with stand_in(tmp_path, challenged("answer")) as port:
        times = await run_calls("101", "pw", "102", port, n=3, rate=20, hold_ms=50, timeout=10)
    assert len(times) == 3 and all(0 < t < 1000 for t in times)


@needs_sipp
async def test_call_times_out_without_hanging():
    port = free_udp_port()  # nobody listens
    r = await asyncio.wait_for(place_call("101", "pw", "102", port, "answered_caller_bye", timeout=1.5), 5)
    assert not r.ok and r.final_code is None and r.codes_seen == []


@needs_sipp
async def test_call_killed_on_timeout(tmp_path):
    async with stand_in(tmp_path, challenged("answer")) as port:  # answers, never sends BYE
        r = await place_call("101", "pw", "102", port, "answered_wait_bye", timeout=1.0)
    assert not r.ok and r.returncode is None and r.final_code == 200
    assert r.stderr_tail.startswith("sipp killed after 1.0 s timeout")


@needs_sipp
async def test_cancelled_run_kills_sipp(tmp_path):
    async with stand_in(tmp_path, challenged("answer")) as port:
        proc = sipp.SippProcess(tmp_path, "cancelled")
        args = proc.args(
            sipp.CALL_SCENARIOS["answered_wait_bye"],
            "127.0.0.1",
            f"127.0.0.1:{port}",
            "-key",
            "caller",
            "101",
            "-au",
            "101",
            "-m",
            "1",
        )
        task = asyncio.create_task(proc.run(args, 30))
        await asyncio.sleep(0.5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert proc.proc.returncode is not None  # reaped, not left running


@needs_sipp
async def test_sipp_phone_registers_answers_and_unregisters(tmp_path):
    async with stand_in(tmp_path, REGISTRAR.replace("FINAL", "200 OK")) as registrar:
        async with SippPhone("102", "pw", registrar, "answer") as phone:
            assert phone.invites_received() == 0
            # call the phone directly with sipp's built-in UAC (no auth): answered, then BYE
            uac = await asyncio.create_subprocess_exec(
                sipp.SIPP_BIN,
                "-sn",
                "uac",
                "-i",
                "127.0.0.1",
                "-p",
                str(free_udp_port()),
                "-mi",
                "127.0.0.1",
                "-mp",
                str(free_port_pair()),
                "-cp",
                str(free_udp_port()),
                "-m",
                "1",
                "-d",
                "100",
                "-nostdin",
                f"127.0.0.1:{phone.sip_port}",
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            assert await asyncio.wait_for(uac.wait(), 10) == 0
            assert await phone.wait_invites(1) == 1
        assert phone.unregister_error is None
        assert phone.invites_received() == 1  # the log outlives the phone


@needs_sipp
async def test_sipp_phone_refused_registration_raises(tmp_path):
    async with stand_in(tmp_path, REGISTRAR.replace("FINAL", "403 Forbidden")) as registrar:
        with pytest.raises(SippError, match="refused with 403"):
            async with SippPhone("102", "wrong", registrar, "busy", register_timeout=5):
                pass
