"""The carrier registrar (SippCarrier "registrar") without Asterisk: our own phone and caller scenarios
register and call through it on loopback, so its digest checks are proven before the PBX meets them."""

from __future__ import annotations

import shutil

import pytest

from pbxtest import sipp
from pbxtest.sipp import (
    CarrierRequest,
    SippCarrier,
    SippError,
    SippPhone,
    parse_carrier_requests,
    parse_message_log,
    place_call,
)

needs_sipp = pytest.mark.skipif(shutil.which(sipp.SIPP_BIN) is None, reason="sipp not installed")

SECRET = "s3cret-Pa55"

# A registration as the carrier logs it: challenged, retransmitted, authenticated, accepted.
REGISTRAR_LOG = """\
----------------------------------------------- 2026-11-27 07:00:00.000001
UDP message received [300] bytes :

REGISTER sip:127.0.0.2:5070 SIP/2.0
Call-ID: reg-1
CSeq: 1 REGISTER
Contact: <sip:pbx01@127.0.0.1:5060;line=abc>
Expires: 600
Content-Length: 0


----------------------------------------------- 2026-11-27 07:00:00.000101
UDP message sent (200 bytes):

SIP/2.0 401 Unauthorized
Call-ID: reg-1
CSeq: 1 REGISTER
WWW-Authenticate: Digest realm="carrier.test", nonce="n1", algorithm=MD5
Content-Length: 0


----------------------------------------------- 2026-11-27 07:00:00.010001
UDP message received [300] bytes :

REGISTER sip:127.0.0.2:5070 SIP/2.0
Call-ID: reg-1
CSeq: 2 REGISTER
Contact: <sip:pbx01@127.0.0.1:5060;line=abc>
Expires: 600
Authorization: Digest username="pbx01", realm="carrier.test", nonce="n1", response="x"
Content-Length: 0


----------------------------------------------- 2026-11-27 07:00:00.510001
UDP message received [300] bytes :

REGISTER sip:127.0.0.2:5070 SIP/2.0
Call-ID: reg-1
CSeq: 2 REGISTER
Expires: 600
Authorization: Digest username="pbx01", realm="carrier.test", nonce="n1", response="x"
Content-Length: 0


----------------------------------------------- 2026-11-27 07:00:00.510101
UDP message sent (200 bytes):

SIP/2.0 200 OK
Call-ID: reg-1
CSeq: 2 REGISTER
Contact: <sip:pbx01@127.0.0.1:5060;line=abc>
Expires: 600
Content-Length: 0

""".replace("\n", "\r\n")


def test_parse_carrier_requests():
    registrations = parse_carrier_requests(parse_message_log(REGISTRAR_LOG), "REGISTER")
    assert registrations == [
        CarrierRequest("REGISTER", "reg-1", 1, None, 401, 600),
        CarrierRequest("REGISTER", "reg-1", 2, "pbx01", 200, 600),
    ]
    assert registrations[1].contact == "<sip:pbx01@127.0.0.1:5060;line=abc>"
    assert parse_carrier_requests(parse_message_log(REGISTRAR_LOG), "INVITE") == []


def test_registrar_needs_the_credentials_it_checks():
    with pytest.raises(ValueError, match="username and password"):
        SippCarrier("registrar")


@needs_sipp
async def test_registrar_accepts_the_right_password_only():
    async with SippCarrier("registrar", username="pbx01", password=SECRET) as carrier:
        async with SippPhone("pbx01", SECRET, carrier.port, "answer", pbx_host=carrier.ip):
            accepted = await carrier.wait_registered(timeout=5)
        assert (accepted.auth_username, accepted.answer) == ("pbx01", 200)
        with pytest.raises(SippError, match="refused with 403"):
            async with SippPhone("pbx01", "wrong", carrier.port, "answer", pbx_host=carrier.ip):
                pass
        with pytest.raises(SippError, match="refused with 403"):
            async with SippPhone("intruder", SECRET, carrier.port, "answer", pbx_host=carrier.ip):
                pass
        answers = [(r.auth_username, r.answer) for r in carrier.registrations()]
    # ours (challenged, accepted), our removal on exit (Expires: 0, likewise), then the two refused
    assert answers == [
        (None, 401),
        ("pbx01", 200),
        (None, 401),
        ("pbx01", 200),
        (None, 401),
        ("pbx01", 403),
        (None, 401),
        ("intruder", 403),
    ]


@needs_sipp
async def test_registrar_challenges_calls_and_answers_authenticated_ones():
    async with SippCarrier("registrar", username="pbx01", password=SECRET) as carrier:
        ok = await place_call(
            "pbx01", SECRET, "+15551234567", carrier.port, hold_ms=100, timeout=10, pbx_host=carrier.ip
        )
        assert (ok.ok, ok.final_code, ok.codes_seen) == (True, 200, [100, 180, 200]), ok.stderr_tail
        refused = await place_call(
            "pbx01", "wrong", "+15551234567", carrier.port, "expect_failure", timeout=10, pbx_host=carrier.ip
        )
        assert (refused.ok, refused.final_code) == (True, 403), refused.stderr_tail
        invites = [(r.cseq, r.auth_username, r.answer) for r in carrier.requests("INVITE")]
    assert invites == [(1, None, 401), (2, "pbx01", 200), (1, None, 401), (2, "pbx01", 403)]
    assert [i.uri_user for i in carrier.invites()] == ["+15551234567", "+15551234567"]
