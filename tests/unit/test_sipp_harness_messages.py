"""pbxtest.sipp's readings without a sipp run: the message-log parser, what the carrier received, the From
of a carrier call, free ports and the RTP audio some scenarios play."""

from __future__ import annotations

import socket

import pytest

from pbxtest import sipp
from pbxtest.sipp import (
    ANONYMOUS_FROM,
    CarrierInvite,
    carrier_from_addr,
    free_port_pair,
    free_udp_port,
    parse_carrier_invites,
    parse_message_log,
    summarize_calls,
)

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
