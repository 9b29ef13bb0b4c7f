"""pbxtest.sipp's carrier trunk on 127.0.0.2: carrier calls placed against a SippCarrier (the carrier is its
own stand-in PBX), each carrier behaviour, timeouts, a port taken meanwhile and a scenario that fails."""

from __future__ import annotations

import asyncio
import socket

import pytest

from pbxtest import sipp
from pbxtest.sipp import (
    CarrierInvite,
    SippCarrier,
    SippError,
    free_udp_port,
    parse_message_log,
    place_carrier_call,
    process,
)
from tests.unit.sipp_stand_in import assert_result, needs_sipp


def call_carrier(carrier: SippCarrier, from_number, dialled, scenario="answered_caller_bye", **kw):
    """place_carrier_call with the carrier itself as the stand-in PBX (both on 127.0.0.2)."""
    return place_carrier_call(from_number, dialled, carrier.port, scenario, pbx_host=carrier.ip, **kw)


@needs_sipp
async def test_carrier_call_answered_by_carrier():
    """place_carrier_call against a SippCarrier, both on 127.0.0.2 (two calls to one sipp UAS)."""
    async with SippCarrier("answer") as carrier:
        assert carrier.ip == "127.0.0.2" and carrier.address == f"127.0.0.2:{carrier.port}"
        assert carrier.invites() == []
        r = await call_carrier(
            carrier, "+15557654321", "+15550001000", display="Alice Smith", hold_ms=200, timeout=10
        )
        assert_result(r, True, 200, [100, 180, 200])
        assert r.returncode == 0 and 0 < r.setup_ms < 1000 and r.scenario == "carrier_answered_caller_bye"
        r2 = await call_carrier(carrier, "15557654322", "15550001000", hold_ms=100, timeout=10)
        assert_result(r2, True, 200, [100, 180, 200])
        invites = await carrier.wait_invites(2, timeout=5)
    assert invites == [
        CarrierInvite("+15550001000", "+15557654321", "Alice Smith", None),
        CarrierInvite("15550001000", "15557654322", "", None),
    ]
    assert [i.privacy for i in invites] == ["none", "none"]
    assert "Authorization" not in r.message_log and "Via: SIP/2.0/UDP 127.0.0.2:" in r.message_log
    assert carrier.invites() == invites  # the log outlives the carrier


@needs_sipp
async def test_carrier_call_anonymous():
    async with SippCarrier("answer") as carrier:
        r = await call_carrier(carrier, None, "+15550001000", hold_ms=100, timeout=10)
        assert_result(r, True, 200, [100, 180, 200])
        [inv] = await carrier.wait_invites(1)
    assert inv == CarrierInvite("+15550001000", "anonymous", "Anonymous", None) and inv.privacy == "id"
    assert '\nFrom: "Anonymous" <sip:anonymous@anonymous.invalid>;tag=' in inv.text
    assert "\nPrivacy: id\n" in r.message_log


@needs_sipp
async def test_carrier_busy_expect_failure():
    async with SippCarrier("busy") as carrier:
        r = await call_carrier(carrier, "+15557654321", "+15550001000", "expect_failure", timeout=10)
        assert_result(r, True, 486, [100, 486])
        r = await call_carrier(carrier, "+15557654321", "+15550001000", "expect_failure", timeout=10)
        assert_result(r, True, 486, [100, 486])
        assert len(await carrier.wait_invites(2)) == 2


@needs_sipp
async def test_carrier_answer_counts_as_failure_for_expect_failure():
    async with SippCarrier("answer") as carrier:
        r = await call_carrier(carrier, "+15557654321", "+15550001000", "expect_failure", timeout=10)
    assert_result(r, False, 200, [100, 180, 200])
    assert r.returncode == 1


@needs_sipp
async def test_carrier_hangs_up_wait_bye():
    async with SippCarrier("answer_hangup", hold_ms=200) as carrier:
        r = await call_carrier(carrier, "+15557654321", "+15550001000", "answered_wait_bye", timeout=10)
    assert_result(r, True, 200, [100, 180, 200])
    assert any(m.method == "BYE" and not m.sent for m in parse_message_log(r.message_log))


@needs_sipp
async def test_carrier_ring_and_cancel():
    """A ringing carrier never answers (expect_failure runs into its timeout) and handles a CANCEL."""
    async with SippCarrier("ring") as carrier:
        r = await call_carrier(carrier, "+15557654321", "+15550001000", "expect_failure", timeout=1.5)
        assert not r.ok and r.codes_seen == [100, 180] and r.final_code is None
        r = await call_carrier(carrier, "+15557654321", "+15550001000", "cancel", timeout=10)
        assert_result(r, True, 487, [100, 180, 487])
        assert "CANCEL sip:+15550001000@127.0.0.2:" in r.message_log
        assert len(await carrier.wait_invites(2)) == 2


@needs_sipp
async def test_carrier_call_times_out_without_hanging():
    port = free_udp_port("127.0.0.2")  # nobody listens
    r = await asyncio.wait_for(place_carrier_call("1", "2", port, timeout=1.5), 5)
    assert not r.ok and r.final_code is None and r.codes_seen == []


@needs_sipp
async def test_carrier_port_taken_is_retried(monkeypatch):
    """A port grabbed between our pick and sipp's bind: the carrier starts again on another one."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    holder.bind(("127.0.0.2", 0))
    taken = holder.getsockname()[1]
    picks = iter([taken])
    real = process.free_udp_port
    monkeypatch.setattr(process, "free_udp_port", lambda host="127.0.0.1": next(picks, None) or real(host))
    try:
        async with SippCarrier("busy") as carrier:
            assert carrier.port != taken
            r = await call_carrier(carrier, "1", "2", "expect_failure", timeout=10)
            assert_result(r, True, 486, [100, 486])
    finally:
        holder.close()


@needs_sipp
async def test_sipp_carrier_start_failure_raises(tmp_path, monkeypatch):
    (tmp_path / sipp.CARRIER_BEHAVIOURS["busy"]).write_text("<scenario><recv request=")  # broken XML
    monkeypatch.setattr(process, "SCENARIO_DIR", tmp_path)
    with pytest.raises(SippError, match="exited before binding") as e:
        async with SippCarrier("busy"):
            pass
    assert e.value.returncode not in (None, 0) and e.value.stderr_tail
