"""Reading sipp's ``-trace_msg`` message logs: SIP messages, per-call summaries, what the carrier received,
and the final codes each scenario counts as ok."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import unquote

from .process import SippError

#: final responses call_expect_failure.xml accepts
FAILURE_CODES = frozenset({403, 404, 408, 480, 484, 486, 487, 488, 500, 502, 503, 600, 603})
#: a carrier call is not challenged: a 401 means the PBX did not take it for a trunk's call at all
CARRIER_FAILURE_CODES = FAILURE_CODES | {401}
#: the final code each caller scenario must see to count as ok
EXPECTED_FINAL = {
    "answered_caller_bye": {200},
    "answered_wait_bye": {200},
    "long_audio_caller_bye": {200},
    "bench": {200},
    "dtmf_caller_bye": {200},
    "expect_failure": FAILURE_CODES,
    "cancel": {487},
}


# ------------------------------------------------------------------------------------ message log

_SEPARATOR = re.compile(r"^-{20,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)[ \t]*$", re.MULTILINE)


@dataclass(frozen=True)
class SipMessage:
    """One SIP message of a sipp ``-trace_msg`` log."""

    time: float  # epoch seconds, µs resolution
    sent: bool  # False: received
    start_line: str
    call_id: str | None
    cseq: int | None
    cseq_method: str | None
    text: str

    @property
    def code(self) -> int | None:
        """The status code of a response, None for a request."""
        m = re.match(r"SIP/2\.0 (\d{3})", self.start_line)
        return int(m.group(1)) if m else None

    @property
    def method(self) -> str | None:
        """The method of a request, None for a response."""
        return None if self.start_line.startswith("SIP/") else self.start_line.split(" ", 1)[0]


def parse_message_log(text: str) -> list[SipMessage]:
    """Parse a sipp ``-trace_msg`` message log into messages (other entries and a torn tail are skipped)."""
    parts = _SEPARATOR.split(text.replace("\r\n", "\n"))
    out = []
    for stamp, body in zip(parts[1::2], parts[2::2], strict=False):  # a torn tail has no body
        head, _, sip = body.lstrip("\n").partition("\n")
        if " message sent " not in head and " message received " not in head:
            continue
        sip = sip.lstrip("\n")
        headers = sip.split("\n\n", 1)[0].split("\n")
        if not headers or not headers[0].strip():
            continue
        call_id = cseq = method = None
        for line in headers[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name in ("call-id", "i"):
                call_id = value.strip()
            elif name == "cseq":
                num, _, meth = value.strip().partition(" ")
                if num.isdigit():
                    cseq, method = int(num), meth.strip().upper()
        if call_id is None or cseq is None:  # not a complete SIP message (e.g. torn by a running sipp)
            continue
        t = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f").timestamp()
        out.append(SipMessage(t, " message sent " in head, headers[0].strip(), call_id, cseq, method, sip))
    return out


@dataclass
class CallSummary:
    """What one Call-ID of a caller's message log says about its (last, i.e. authenticated) INVITE."""

    call_id: str
    codes_seen: list[int]
    final_code: int | None
    setup_ms: float | None  # INVITE(auth) first sent -> its 200 received


def summarize_calls(messages: list[SipMessage]) -> dict[str, CallSummary]:
    """Per Call-ID (in order of first appearance): response codes to the highest-CSeq INVITE we sent,
    its final code and INVITE -> 200 time. Consecutive repeats (retransmissions) are collapsed."""
    invites: dict[str, tuple[int, float]] = {}  # call_id -> (cseq, first sent time)
    for m in messages:
        if m.sent and m.method == "INVITE" and m.call_id and m.cseq is not None:
            cur = invites.get(m.call_id)
            if cur is None or m.cseq > cur[0]:
                invites[m.call_id] = (m.cseq, m.time)
    out = {}
    for call_id, (cseq, t0) in invites.items():
        codes: list[int] = []
        t200 = None
        for m in messages:
            if (
                not m.sent
                and m.call_id == call_id
                and m.cseq == cseq
                and m.cseq_method == "INVITE"
                and m.code is not None
            ):
                if not codes or codes[-1] != m.code:
                    codes.append(m.code)
                if m.code == 200 and t200 is None:
                    t200 = m.time
        final = next((c for c in codes if c >= 200), None)
        out[call_id] = CallSummary(call_id, codes, final, None if t200 is None else (t200 - t0) * 1000.0)
    return out


# ------------------------------------------------------------------------------------ call results


@dataclass
class CallResult:
    """Outcome of one ``place_call``. ``final_code``/``codes_seen`` concern the authenticated INVITE."""

    ok: bool
    final_code: int | None
    codes_seen: list[int]
    setup_ms: float | None
    returncode: int | None  # None: killed on timeout
    stderr_tail: str
    message_log: str = field(repr=False)
    scenario: str = ""

    def check(self) -> CallResult:
        """Return self if ok, else raise SippError with the details."""
        if not self.ok:
            raise SippError(
                f"call scenario {self.scenario!r} failed: final_code={self.final_code} "
                f"codes_seen={self.codes_seen}",
                returncode=self.returncode,
                stderr_tail=self.stderr_tail,
                message_log=self.message_log,
            )
        return self


# ------------------------------------------------------------------------ what the carrier received


@dataclass(frozen=True)
class CarrierInvite:
    """An INVITE the carrier received from the PBX (its first INVITE of a Call-ID). Users are
    percent-decoded; ``from_display`` is "" without a display name, ``p_asserted`` the user of the
    P-Asserted-Identity URI (None without that header). Equality ignores the fields after ``p_asserted``."""

    uri_user: str
    from_user: str
    from_display: str
    p_asserted: str | None
    privacy: str | None = field(default=None, compare=False)  # the Privacy header, if any
    call_id: str = field(default="", compare=False)
    text: str = field(default="", repr=False, compare=False)


def _uri_user(value: str) -> str:
    """The user of the (first) URI in a header value or request-URI: ``"A" <sip:+1555@h>;tag=x`` -> +1555;
    ``tel:+1555;x=y`` -> +1555; "" when the URI has none."""
    if "<" in value:
        uri = value.split("<", 1)[1].split(">", 1)[0]
    else:
        uri = value.strip().split(";", 1)[0].split(" ", 1)[0]  # addr-spec: header params follow ';'
    scheme, _, rest = uri.partition(":")
    if scheme.lower() == "tel":
        return unquote(rest.split(";", 1)[0])
    return unquote(rest.split("@", 1)[0]) if "@" in rest else ""


def _display_name(value: str) -> str:
    value = value.strip()
    if value.startswith('"'):
        out, i = [], 1
        while i < len(value) and value[i] != '"':
            if value[i] == "\\" and i + 1 < len(value):
                i += 1
            out.append(value[i])
            i += 1
        return "".join(out)
    return value.split("<", 1)[0].strip() if "<" in value else ""


def _header(text: str, *names: str) -> str | None:
    """The first value of the header ``names`` (long and compact forms) in a SIP message."""
    for line in text.replace("\r\n", "\n").split("\n\n", 1)[0].split("\n")[1:]:
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() in names:
            return value.strip()
    return None


def parse_carrier_invites(messages: list[SipMessage]) -> list[CarrierInvite]:
    """The INVITEs received in a message log, one per Call-ID (re-INVITEs and retransmissions skipped)."""
    seen: set[str] = set()
    out = []
    for m in messages:
        if m.sent or m.method != "INVITE" or m.call_id in seen:
            continue
        seen.add(m.call_id)
        parts = m.start_line.split()
        from_value = _header(m.text, "from", "f") or ""
        pai = _header(m.text, "p-asserted-identity")
        out.append(
            CarrierInvite(
                uri_user=_uri_user(parts[1]) if len(parts) > 1 else "",
                from_user=_uri_user(from_value),
                from_display=_display_name(from_value),
                p_asserted=None if pai is None else _uri_user(pai),
                privacy=_header(m.text, "privacy"),
                call_id=m.call_id or "",
                text=m.text,
            )
        )
    return out


@dataclass(frozen=True)
class CarrierRequest:
    """A request the carrier received (retransmissions counted once) and the final answer it sent.

    ``auth_username`` is the ``username`` of its Authorization header (None without one); ``answer`` the
    final status code the carrier sent to it (None while none); ``expires`` the Expires header (REGISTER).
    """

    method: str
    call_id: str
    cseq: int
    auth_username: str | None
    answer: int | None
    expires: int | None = None
    contact: str | None = field(default=None, compare=False)
    text: str = field(default="", repr=False, compare=False)


_AUTH_USERNAME = re.compile(r'\busername\s*=\s*"([^"]*)"', re.IGNORECASE)


def parse_carrier_requests(messages: list[SipMessage], method: str) -> list[CarrierRequest]:
    """The ``method`` requests received in a message log, one per Call-ID and CSeq, in arrival order, with
    the final response the log shows sent for each."""
    answers: dict[tuple[str | None, int | None], int] = {}
    for m in messages:
        if m.sent and m.cseq_method == method and m.code is not None and m.code >= 200:
            answers.setdefault((m.call_id, m.cseq), m.code)
    seen: set[tuple[str | None, int | None]] = set()
    out = []
    for m in messages:
        key = (m.call_id, m.cseq)
        if m.sent or m.method != method or key in seen or m.cseq is None:
            continue
        seen.add(key)
        auth = _header(m.text, "authorization")
        user = _AUTH_USERNAME.search(auth) if auth else None
        expires = _header(m.text, "expires")
        out.append(
            CarrierRequest(
                method=method,
                call_id=m.call_id or "",
                cseq=m.cseq,
                auth_username=user.group(1) if user else None,
                answer=answers.get(key),
                expires=int(expires) if expires and expires.isdigit() else None,
                contact=_header(m.text, "contact", "m"),
                text=m.text,
            )
        )
    return out
