"""Lines of Asterisk's security log (logger.conf `security.log => [json]security`) as typed failures.

Each line is a JSON object whose ``logmsg.message`` is res_security_log's text, e.g.
``SecurityEvent="ChallengeResponseFailed",EventTV="…",Severity="Error",Service="PJSIP",EventVersion="1",
AccountID="101",SessionID="<Call-ID>",LocalAddress="IPV4/UDP/127.0.0.1/5060",
RemoteAddress="IPV4/UDP/203.0.113.9/5060",Challenge="<nonce>",Response="<hash>",ExpectedResponse=""``.

Asterisk does not escape the values, and some are the caller's: the Call-ID (SessionID) may hold any
character, quotes included, and an unknown account name is URL-decoded (so it may hold quotes and line
breaks; the JSON format escapes those, which is why the plain format is not accepted: a line break in a
user name would forge a line). Everything the caller controls *after* RemoteAddress (the digest's nonce
and response) comes from quoted strings or tokens, where a quote is always escaped by a backslash, so
`RemoteAddress="` cannot appear there: the last RemoteAddress in the text is Asterisk's own. The address
is read that way, so a forged Call-ID cannot get someone else banned.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass

#: security events that mean "a request was refused for its credentials or its address".
#: ChallengeSent is not one: every normal REGISTER and INVITE is challenged first.
COUNTED_EVENTS = frozenset({"InvalidAccountID", "ChallengeResponseFailed", "InvalidPassword", "FailedACL"})
#: the account an unidentified request is reported under (its InvalidAccountID already counted it)
UNKNOWN_ACCOUNT = "<unknown>"

_HEAD = re.compile(
    r'SecurityEvent="(?P<event>\w+)",EventTV="[^"]*",Severity="\w+",Service="(?P<service>\w+)",'
    r'EventVersion="\d+",AccountID="(?P<rest>.*)\Z',
    re.DOTALL,
)
_REMOTE = re.compile(r',RemoteAddress="IPV[46]/[A-Za-z]+/(?P<ip>[0-9A-Fa-f.:]+)/\d+"(?=,|\s*\Z)')
_ACCOUNT = re.compile(r'(?P<account>[A-Za-z0-9_.+-]{1,64})",SessionID="')


@dataclass(frozen=True)
class AuthFailure:
    """One refused request: its security `event`, the source `address`, and the `account` it named
    (None when the account is unknown or not a plain name)."""

    event: str
    address: str
    account: str | None = None


def normalise_address(text: str) -> str | None:
    """An IP address in its canonical form (IPv4-mapped IPv6 as IPv4), or None if it is not one."""
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return str(ip)


def parse_message(message: str) -> AuthFailure | None:
    """A failure from res_security_log's text, or None (not a counted PJSIP event, or malformed)."""
    head = _HEAD.match(message.strip())
    if not head or head["service"].upper() != "PJSIP" or head["event"] not in COUNTED_EVENTS:
        return None
    rest = head["rest"]
    remotes = list(_REMOTE.finditer(rest))
    if not remotes:
        return None
    address = normalise_address(remotes[-1]["ip"])
    if address is None:
        return None
    m = _ACCOUNT.match(rest)
    account = m["account"] if m else None
    if head["event"] == "ChallengeResponseFailed" and rest.startswith(UNKNOWN_ACCOUNT + '"'):
        return None  # the same request was already reported as InvalidAccountID
    if head["event"] == "InvalidAccountID":
        account = None  # no such account: nothing to alert a number about
    return AuthFailure(head["event"], address, account)


def parse_line(line: str) -> AuthFailure | None:
    """A failure from one line of the JSON security log, or None for anything else (never raises)."""
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    logmsg = entry.get("logmsg") if isinstance(entry, dict) else None
    if not isinstance(logmsg, dict) or logmsg.get("level") != "SECURITY":
        return None
    message = logmsg.get("message")
    return parse_message(message) if isinstance(message, str) else None


def is_plain_security_line(line: str) -> bool:
    """A security event in Asterisk's plain log format (not JSON): the log is configured wrongly."""
    return 'SecurityEvent="' in line and not line.lstrip().startswith("{")
