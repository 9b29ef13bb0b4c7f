"""pbxtest.sipp without Asterisk: the message-log parser, and our scenarios run against each other on
loopback. The stand-in "PBX" is sipp itself, running a phone_*.xml scenario behind a 401 digest challenge
(written at test time), or a minimal registrar."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
from pathlib import Path

import pytest

from pbxtest import sipp
from pbxtest.sipp import (
    ANONYMOUS_FROM,
    CallResult,
    CarrierInvite,
    SippCarrier,
    SippError,
    SippPhone,
    carrier_from_addr,
    free_port_pair,
    free_udp_port,
    parse_carrier_invites,
    parse_message_log,
    place_call,
    place_carrier_call,
    process,
    run_calls,
    summarize_calls,
)

needs_sipp = pytest.mark.skipif(shutil.which(sipp.SIPP_BIN) is None, reason="sipp not installed")

# A sipp -trace_msg log captured from call_answered_caller_bye.xml against phone_answer.xml (SDP bodies cut).
CAPTURED = """\
----------------------------------------------- 2026-11-27 06:36:49.426977
UDP message sent (568 bytes):

INVITE sip:102@127.0.0.1:15060 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:15062;branch=z9hG4bK-10820-1-0
From: "101" <sip:101@127.0.0.1:15060>;tag=10820SIPpTag091
To: <sip:102@127.0.0.1:15060>
Call-ID: 1-10820@127.0.0.1
CSeq: 1 INVITE
Content-Type: application/sdp
Content-Length:   0

----------------------------------------------- 2026-11-27 06:36:49.427212
UDP message received [330] bytes :

SIP/2.0 401 Unauthorized
Via: SIP/2.0/UDP 127.0.0.1:15062;branch=z9hG4bK-10820-1-0
From: "101" <sip:101@127.0.0.1:15060>;tag=10820SIPpTag091
To: <sip:102@127.0.0.1:15060>;tag=10818SIPpTag071
Call-ID: 1-10820@127.0.0.1
CSeq: 1 INVITE
WWW-Authenticate: Digest realm="test", nonce="abc123", algorithm=MD5
Content-Length: 0


----------------------------------------------- 2026-11-27 06:36:49.427241
UDP message sent (286 bytes):

ACK sip:102@127.0.0.1:15060 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:15062;branch=z9hG4bK-10820-1-0
Call-ID: 1-10820@127.0.0.1
CSeq: 1 ACK
Content-Length: 0


----------------------------------------------- 2026-11-27 06:36:49.428370
UDP message sent (718 bytes):

INVITE sip:102@127.0.0.1:15060 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:15062;branch=z9hG4bK-10820-1-4
Call-ID: 1-10820@127.0.0.1
CSeq: 2 INVITE
Authorization: Digest username="101",realm="test",uri="sip:127.0.0.1:15060",nonce="abc123"
Content-Length:   0

----------------------------------------------- 2026-11-27 06:36:49.428375
UDP message received [280] bytes :

SIP/2.0 100 Trying
Call-ID: 1-10820@127.0.0.1
CSeq: 2 INVITE
Content-Length: 0


----------------------------------------------- 2026-11-27 06:36:49.429477
UDP message received [301] bytes :

SIP/2.0 180 Ringing
Call-ID: 1-10820@127.0.0.1
CSeq: 2 INVITE
Content-Length: 0


----------------------------------------------- 2026-11-27 06:36:49.430566
UDP message received [529] bytes :

SIP/2.0 200 OK
Call-ID: 1-10820@127.0.0.1
CSeq: 2 INVITE
Content-Type: application/sdp
Content-Length:   198

v=0
m=audio 16000 RTP/AVP 0 101
CSeq: 9 INVITE

----------------------------------------------- 2026-11-27 06:36:49.430593
UDP message sent (322 bytes):

ACK sip:102@127.0.0.1:15060 SIP/2.0
Call-ID: 1-10820@127.0.0.1
CSeq: 2 ACK
Content-Length: 0


----------------------------------------------- 2026-11-27 06:36:49.934906
UDP message sent (323 bytes):

BYE sip:102@127.0.0.1:15060 SIP/2.0
Call-ID: 1-10820@127.0.0.1
CSeq: 3 BYE
Content-Length: 0


----------------------------------------------- 2026-11-27 06:36:49.935042
UDP message received [294] bytes :

SIP/2.0 200 OK
Call-ID: 1-10820@127.0.0.1
CSeq: 3 BYE
Content-Length: 0


----------------------------------------------- 2026-11-27 06:36:50.100000
UDP message received [294] bytes :

SIP/2.0 200 O""".replace("\n", "\r\n")  # sipp logs SIP lines with CRLF; the last entry is torn mid-write

CHALLENGE = """\
  <recv request="INVITE"></recv>
  <send><![CDATA[

      SIP/2.0 401 Unauthorized
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag07[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      WWW-Authenticate: Digest realm="test", nonce="abc123", algorithm=MD5
      Content-Length: 0

    ]]></send>
  <recv request="ACK"></recv>
"""

REGISTRAR = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="test registrar">
  <recv request="REGISTER"></recv>
  <send><![CDATA[

      SIP/2.0 401 Unauthorized
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag07[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      WWW-Authenticate: Digest realm="test", nonce="abc123", algorithm=MD5
      Content-Length: 0

    ]]></send>
  <recv request="REGISTER"></recv>
  <send><![CDATA[

      SIP/2.0 FINAL
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag07[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      [last_Contact:]
      Content-Length: 0

    ]]></send>
</scenario>
"""


def test_parse_captured_log():
    msgs = parse_message_log(CAPTURED)
    assert len(msgs) == 10
    first = msgs[0]
    assert (first.sent, first.method, first.code, first.cseq, first.cseq_method) == (
        True,
        "INVITE",
        None,
        1,
        "INVITE",
    )
    assert first.call_id == "1-10820@127.0.0.1"
    assert [m.code for m in msgs if not m.sent] == [401, 100, 180, 200, 200]
    calls = summarize_calls(msgs)
    assert list(calls) == ["1-10820@127.0.0.1"]
    c = calls["1-10820@127.0.0.1"]
    assert c.codes_seen == [100, 180, 200] and c.final_code == 200
    assert c.setup_ms == pytest.approx(2.196, abs=0.002)  # 06:36:49.428370 -> .430566


def test_parse_ignores_other_entries():
    text = "junk\n" + "-" * 47 + " 2026-11-27 06:00:00.000001\nSomething else logged\n\nINVITE x SIP/2.0\n"
    assert parse_message_log(text) == [] and parse_message_log("") == []


def test_free_ports():
    p = free_port_pair()
    assert p % 2 == 0
    for port in (p, p + 2, free_udp_port()):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", port))


# ------------------------------------------------------------------------------------ loopback


async def _wait_bound(port: int, proc, timeout: float = 3.0) -> None:
    """Until sipp holds the UDP port (our own bind fails)."""
    for _ in range(int(timeout / 0.02)):
        if proc.returncode is not None:
            raise RuntimeError(f"stand-in sipp exited with {proc.returncode}")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return
        await asyncio.sleep(0.02)
    raise RuntimeError("stand-in sipp did not bind")


@contextlib.asynccontextmanager
async def stand_in(tmp_path: Path, xml: str, *extra: str):
    """Run a UAS scenario (XML text) with sipp on a free port until the block ends; yields the port."""
    path = tmp_path / f"uas{free_udp_port()}.xml"
    path.write_text(xml)
    port = free_udp_port()
    proc = await asyncio.create_subprocess_exec(
        sipp.SIPP_BIN,
        "-sf",
        str(path),
        "-i",
        "127.0.0.1",
        "-p",
        str(port),
        "-mi",
        "127.0.0.1",
        "-mp",
        str(free_port_pair()),
        "-cp",
        str(free_udp_port()),
        "-nostdin",
        *extra,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await _wait_bound(port, proc)
        yield port
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


def challenged(behaviour: str) -> str:
    """Our phone_<behaviour>.xml preceded by a 401 challenge: a stand-in PBX for the caller scenarios."""
    text = (sipp.SCENARIO_DIR / sipp.PHONE_BEHAVIOURS[behaviour]).read_text()
    i = text.index(">", text.index("<scenario")) + 1
    return text[:i] + "\n" + CHALLENGE + text[i:]


def assert_result(r: CallResult, ok: bool, final: int, codes: list[int]) -> None:
    assert (r.ok, r.final_code, r.codes_seen) == (ok, final, codes), (r, r.stderr_tail)


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


# ------------------------------------------------------------------------------------ carrier trunk

# An INVITE as a PBX sends it to the carrier (compact From, escaped display, PAI), received twice (a
# retransmission), then a second call with an anonymous From and a tel: PAI.
CARRIER_LOG = """\
----------------------------------------------- 2026-11-27 07:00:00.000001
UDP message received [400] bytes :

INVITE sip:%2B15551234567@127.0.0.2:5370 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-1
f: "Ann \\"A\\" Lee" <sip:+15550001000@127.0.0.1>;tag=abc
To: <sip:+15551234567@127.0.0.2>
Call-ID: call-1
CSeq: 10 INVITE
P-Asserted-Identity: "Ann" <sip:+15550001001@127.0.0.1>
Content-Length: 0


----------------------------------------------- 2026-11-27 07:00:00.500001
UDP message received [400] bytes :

INVITE sip:%2B15551234567@127.0.0.2:5370 SIP/2.0
f: "Ann" <sip:+15550001000@127.0.0.1>;tag=abc
Call-ID: call-1
CSeq: 10 INVITE
Content-Length: 0


----------------------------------------------- 2026-11-27 07:00:01.000001
UDP message received [400] bytes :

INVITE sip:15559876543@127.0.0.2:5370;user=phone SIP/2.0
From: "Anonymous" <sip:anonymous@anonymous.invalid>;tag=def
Call-ID: call-2
CSeq: 1 INVITE
Privacy: id
P-Asserted-Identity: <tel:+15550001002;npdi>
Content-Length: 0

""".replace("\n", "\r\n")


def test_parse_carrier_invites():
    invites = parse_carrier_invites(parse_message_log(CARRIER_LOG))
    assert invites == [
        CarrierInvite("+15551234567", "+15550001000", 'Ann "A" Lee', "+15550001001"),
        CarrierInvite("15559876543", "anonymous", "Anonymous", "+15550001002"),
    ]
    assert (invites[0].privacy, invites[0].call_id) == (None, "call-1")
    assert (invites[1].privacy, invites[1].call_id) == ("id", "call-2")


def test_carrier_from_addr():
    assert carrier_from_addr("+15557654321") == "<sip:+15557654321@127.0.0.2>"
    assert carrier_from_addr("15557654321", 'Bob "B"') == '"Bob \\"B\\"" <sip:15557654321@127.0.0.2>'
    assert carrier_from_addr(None) == ANONYMOUS_FROM == '"Anonymous" <sip:anonymous@anonymous.invalid>'
    for bad in ("", "1 2", "a@b", "x>"):
        with pytest.raises(ValueError):
            carrier_from_addr(bad)
    with pytest.raises(ValueError):
        carrier_from_addr(None, "Named")


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


def test_long_audio_pcap_is_one_continuous_rtp_stream(tmp_path):
    import struct

    data = sipp.write_rtp_pcap(tmp_path / "a.pcap", 2).read_bytes()
    assert struct.unpack("<I", data[:4])[0] == 0xA1B2C3D4
    offset, seqs, stamps, times = 24, [], [], []
    while offset < len(data):
        sec, usec, length, _ = struct.unpack("<IIII", data[offset : offset + 16])
        rtp = data[offset + 16 + 42 : offset + 16 + length]
        _, pt, seq, stamp = struct.unpack("!BBHI", rtp[:8])
        assert pt == 8 and len(rtp) == 12 + 160
        seqs.append(seq), stamps.append(stamp), times.append(sec + usec / 1e6)
        offset += 16 + length
    assert seqs == list(range(100))  # nothing for a receiver to drop as a repeat
    assert stamps == [i * 160 for i in range(100)]
    assert times[-1] == pytest.approx(1.98)
