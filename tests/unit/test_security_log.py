"""Asterisk's JSON security log read into failures: what counts, and what a caller cannot forge.

The lines are the ones Asterisk 22 wrote when the integration tests sent those REGISTERs.
"""

import json

import pytest

from core.security import AuthFailure, parse_line
from core.security.log import is_plain_security_line


def line(message: str) -> str:
    """A security log line as `security.log => [json]security` writes it."""
    return json.dumps(
        {
            "hostname": "pbx",
            "timestamp": "2026-12-02 12:58:12.667",
            "identifiers": {"lwp": 23080, "callid": ""},
            "logmsg": {
                "location": {"filename": "res_security_log.c", "function": "security_event_stasis_cb"},
                "level": "SECURITY",
                "message": message + "\n",
            },
        }
    )


HEAD = 'EventTV="2026-12-02T12:58:12.667+0000",Severity="Error",Service="PJSIP",EventVersion="1"'
LOCAL = 'LocalAddress="IPV4/UDP/127.0.0.1/5060"'


def wrong_password(remote: str = "IPV4/UDP/203.0.113.9/40516", session: str = "a3cd@203.0.113.9") -> str:
    return (
        f'SecurityEvent="ChallengeResponseFailed",{HEAD},AccountID="101",SessionID="{session}",{LOCAL},'
        f'RemoteAddress="{remote}",Challenge="1796215362/1a00035e917908b21d917c9234b2a1cc",'
        'Response="a65ac0d385e0fa87192112fc10ddc891",ExpectedResponse=""'
    )


def test_a_wrong_password_is_a_failure_of_that_number_from_that_address():
    assert parse_line(line(wrong_password())) == AuthFailure("ChallengeResponseFailed", "203.0.113.9", "101")


def test_an_unknown_account_counts_for_the_address_only():
    msg = (
        f'SecurityEvent="InvalidAccountID",{HEAD},AccountID="999",SessionID="bfe8@127.0.0.7",{LOCAL},'
        'RemoteAddress="IPV4/UDP/127.0.0.7/38289"'
    )
    assert parse_line(line(msg)) == AuthFailure("InvalidAccountID", "127.0.0.7", None)
    # the same request's digest failure under <unknown> is not counted a second time
    dup = wrong_password().replace('AccountID="101"', 'AccountID="<unknown>"')
    assert parse_line(line(dup)) is None


def test_challenges_and_successes_are_not_failures():
    sent = (
        f'SecurityEvent="ChallengeSent",{HEAD},AccountID="101",SessionID="s",{LOCAL},'
        'RemoteAddress="IPV4/UDP/127.0.0.5/57193",Challenge=""'
    )
    ok = sent.replace("ChallengeSent", "SuccessfulAuth").replace('Challenge=""', 'UsingPassword="1"')
    assert parse_line(line(sent)) is None and parse_line(line(ok)) is None
    ami = wrong_password().replace('Service="PJSIP"', 'Service="AMI"')
    assert parse_line(line(ami)) is None  # a ban refuses SIP: only SIP failures count


def test_a_forged_call_id_cannot_name_another_address():
    forged = 'x",LocalAddress="IPV4/UDP/127.0.0.1/5060",RemoteAddress="IPV4/UDP/127.0.0.99/5060'
    assert parse_line(line(wrong_password(session=forged))).address == "203.0.113.9"


def test_a_forged_nonce_cannot_name_another_address():
    # quotes inside the digest's quoted nonce reach the log escaped (as Asterisk wrote them)
    msg = wrong_password().replace(
        'Challenge="1796215362/1a00035e917908b21d917c9234b2a1cc"',
        'Challenge="1/a\\",RemoteAddress=\\"IPV4/UDP/127.0.0.98/1"',
    )
    assert parse_line(line(msg)).address == "203.0.113.9"


def test_a_user_name_with_a_line_break_stays_in_its_line():
    # Asterisk URL-decodes unknown user names: %22 and %0d%0a arrive as a quote and a line break
    msg = (
        f'SecurityEvent="InvalidAccountID",{HEAD},AccountID="a"b\r\n[x] SECURITY: RemoteAddress='
        f'"IPV4/UDP/127.0.0.98/1"",SessionID="p2",{LOCAL},RemoteAddress="IPV4/UDP/127.0.0.8/55558"'
    )
    assert parse_line(line(msg)) == AuthFailure("InvalidAccountID", "127.0.0.8", None)


@pytest.mark.parametrize(
    ("remote", "address"),
    [
        ("IPV6/UDP/2001:db8::7/5060", "2001:db8::7"),
        ("IPV6/UDP/::ffff:192.0.2.4/5060", "192.0.2.4"),
        ("IPV4/TCP/198.51.100.2/5061", "198.51.100.2"),
    ],
)
def test_addresses_are_canonical(remote, address):
    assert parse_line(line(wrong_password(remote=remote))).address == address


@pytest.mark.parametrize(
    "text",
    [
        "[2026-12-02 12:58:07.977] Asterisk 22.10.1 built by nobody",  # the banner of a new log file
        "",
        "{",
        "[1, 2]",
        json.dumps({"logmsg": "x"}),
        json.dumps({"logmsg": {"level": "SECURITY", "message": 7}}),
        json.dumps({"logmsg": {"level": "NOTICE", "message": wrong_password()}}),
        line('SecurityEvent="ChallengeResponseFailed"'),
        line(wrong_password(remote="IPV4/UDP/999.1.1.1/5060")),
        line(wrong_password().replace("RemoteAddress", "Remote")),
        "\udcff garbage \x00",
    ],
)
def test_anything_else_is_ignored_without_raising(text):
    assert parse_line(text) is None


def test_the_plain_log_format_is_recognised_so_it_can_be_reported():
    plain = f"[2026-12-02 12:58:12] SECURITY[1] res_security_log.c: {wrong_password()}"
    assert is_plain_security_line(plain) and parse_line(plain) is None
    assert not is_plain_security_line(line(wrong_password()))
