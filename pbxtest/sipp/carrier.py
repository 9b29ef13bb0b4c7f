"""The carrier trunk (the PBX knows the carrier by its source IP, 127.0.0.2, no auth).

* calls from the public network: ``carrier_call_<scenario>.xml`` (INVITE to the DID ``-s``,
  ``-key from_addr NAME-ADDR``, ``-key privacy none|id``);
* the carrier's side of outbound calls: ``SippCarrier`` running ``carrier_uas_<behaviour>.xml`` (plain
  UAS, one call per INVITE);
* a carrier that wants credentials: ``carrier_uas_registrar.xml`` (``-key user U -key password P``), a
  registrar and UAS that challenges REGISTERs and INVITEs (401) and checks their digests (``<verifyauth>``).
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from pathlib import Path
from typing import Self

from .messages import (
    CARRIER_FAILURE_CODES,
    EXPECTED_FINAL,
    CallResult,
    CallSummary,
    CarrierInvite,
    CarrierRequest,
    parse_carrier_invites,
    parse_carrier_requests,
    parse_message_log,
    summarize_calls,
)
from .process import SippError, SippProcess, process_holds_udp

log = logging.getLogger(__name__)


CARRIER_CALL_SCENARIOS = {
    "answered_caller_bye": "carrier_call_answered_caller_bye.xml",
    "answered_wait_bye": "carrier_call_answered_wait_bye.xml",
    "expect_failure": "carrier_call_expect_failure.xml",
    "cancel": "carrier_call_cancel.xml",
}
CARRIER_BEHAVIOURS = {
    "answer": "carrier_uas_answer.xml",
    "answer_hangup": "carrier_uas_answer_hangup.xml",
    "busy": "carrier_uas_busy.xml",
    "ring": "carrier_uas_ring.xml",
    "registrar": "carrier_uas_registrar.xml",  # needs the username and password it checks
}
#: the carrier's address on loopback: the PBX identifies the trunk by this source IP
CARRIER_IP = "127.0.0.2"
#: the From of an anonymous caller (RFC 3323), sent with ``Privacy: id``
ANONYMOUS_FROM = '"Anonymous" <sip:anonymous@anonymous.invalid>'


# ------------------------------------------------------------------ calls from the public network


def _quote_display(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def carrier_from_addr(from_number: str | None, display: str = "", host: str = CARRIER_IP) -> str:
    """The From name-addr (without tag) of a carrier call: ``"NAME" <sip:NUMBER@host>``, ``<sip:NUMBER@host>``
    without a display name, or ``ANONYMOUS_FROM`` when ``from_number`` is None."""
    if from_number is None:
        if display:
            raise ValueError("an anonymous caller has no display name")
        return ANONYMOUS_FROM
    if not from_number or any(c in from_number for c in ' <>@;"\r\n'):
        raise ValueError(f"not a caller number for a SIP URI user: {from_number!r}")
    uri = f"<sip:{from_number}@{host}>"
    return f"{_quote_display(display)} {uri}" if display else uri


async def place_carrier_call(
    from_number: str | None,
    dialled: str,
    pbx_sip_port: int,
    scenario: str = "answered_caller_bye",
    *,
    display: str = "",
    hold_ms: int = 1000,
    timeout: float | None = None,
    carrier_ip: str = CARRIER_IP,
    pbx_host: str = "127.0.0.1",
) -> CallResult:
    """Place one call from the public network over the carrier trunk: sipp on ``carrier_ip`` (no auth)
    sends an INVITE to the DID ``dialled`` (request-URI user, e.g. ``+15550001000``) with the caller's
    number ``from_number`` as From user (display name ``display``); ``from_number=None`` is an anonymous
    caller (``ANONYMOUS_FROM`` and ``Privacy: id``; otherwise ``Privacy: none``).

    ``scenario``: answered_caller_bye (hold ``hold_ms`` then BYE), answered_wait_bye (wait up to 60 s for
    the PBX's BYE), expect_failure (any failure code; 200 fails), cancel (CANCEL 1 s after 180; 487 is
    ok). Same ``CallResult`` semantics as
    ``place_call`` (there is no 401 here: codes concern the one INVITE). Never raises for a failed call;
    the process is killed after ``timeout`` s.
    """
    xml = CARRIER_CALL_SCENARIOS[scenario]
    from_addr = carrier_from_addr(from_number, display, carrier_ip)
    if timeout is None:
        timeout = 75.0 if scenario == "answered_wait_bye" else hold_ms / 1000 + 20.0
    with tempfile.TemporaryDirectory(prefix="sipp-carrier-call-") as wd:
        sipp = SippProcess(Path(wd), "carrier-call")
        args = sipp.args(
            xml,
            carrier_ip,
            f"{pbx_host}:{pbx_sip_port}",
            "-key",
            "from_addr",
            from_addr,
            "-key",
            "privacy",
            "id" if from_number is None else "none",
            "-s",
            dialled,
            "-d",
            str(hold_ms),
            "-recv_timeout",
            str(max(1000, int(timeout * 1000) - 2000)),  # an unanswered recv fails the call
            "-m",
            "1",
        )
        rc = await sipp.run(args, timeout)
        text, err = sipp.message_log(), sipp.stderr_tail()
    if rc is None:
        err = f"sipp killed after {timeout:.1f} s timeout\n{err}"
    calls = list(summarize_calls(parse_message_log(text)).values())
    s = calls[0] if calls else CallSummary("", [], None, None)
    expected = CARRIER_FAILURE_CODES if scenario == "expect_failure" else EXPECTED_FINAL[scenario]
    ok = rc == 0 and s.final_code in expected
    return CallResult(ok, s.final_code, s.codes_seen, s.setup_ms, rc, err, text, f"carrier_{scenario}")


# ------------------------------------------------------------------------- the carrier as a UAS


class SippCarrier:
    """The carrier's side of the trunk, receiving the PBX's outbound calls:
    ``async with SippCarrier("busy") as carrier: ... carrier.port ... carrier.invites()``.

    Entering starts a sipp UAS (``carrier_uas_<behaviour>.xml``, one call per INVITE, any number of calls)
    on ``ip`` (127.0.0.2) and a free UDP port (``port``), and returns once sipp has bound it. Behaviours:
    answer (answers PCMA, waits for BYE), answer_hangup (answers, sends BYE after ``hold_ms``), busy (486),
    ring (180 forever, handles CANCEL), registrar (wants ``username`` and ``password``: challenges every
    REGISTER and INVITE with a 401 and accepts only a digest made with them, else 403; registrations get
    200, calls are answered like ``answer``; see ``registrations()`` and ``wait_registered()``).
    Incoming OPTIONS/NOTIFY/INFO/UPDATE are answered 200 (``-aa``), RTP is echoed (``-rtp_echo``). Exiting
    stops sipp; the message log is kept.
    """

    def __init__(
        self,
        behaviour: str = "answer",
        *,
        ip: str = CARRIER_IP,
        hold_ms: int = 2000,
        start_timeout: float = 5.0,
        username: str | None = None,
        password: str | None = None,
    ):
        if behaviour not in CARRIER_BEHAVIOURS:
            raise ValueError(f"behaviour must be one of {sorted(CARRIER_BEHAVIOURS)}")
        if behaviour == "registrar" and not (username and password):
            raise ValueError("the registrar behaviour needs the username and password it accepts")
        self.behaviour, self.ip, self.hold_ms, self.start_timeout = behaviour, ip, hold_ms, start_timeout
        self.username, self.password = username, password
        self.port: int | None = None
        self._tmp: tempfile.TemporaryDirectory | None = None
        self._sipp: SippProcess | None = None
        self._final_log = ""
        self._final_err = ""

    @property
    def address(self) -> str:
        """``ip:port`` of the carrier (e.g. for the PBX's trunk configuration)."""
        return f"{self.ip}:{self.port}"

    async def __aenter__(self) -> Self:
        self._tmp = tempfile.TemporaryDirectory(prefix=f"sipp-carrier-{self.behaviour}-")
        try:
            for attempt in range(3):  # the free port may be taken between our pick and sipp's bind
                self._sipp = SippProcess(Path(self._tmp.name), f"carrier{attempt}")
                args = self._sipp.args(
                    CARRIER_BEHAVIOURS[self.behaviour],
                    self.ip,
                    None,
                    "-d",
                    str(self.hold_ms),
                    "-aa",
                    "-rtp_echo",
                    *self._credential_args(),
                )
                self.port = int(args[args.index("-p") + 1])
                await self._sipp.start(args)
                if await self._wait_bound():
                    return self
                if "Unable to bind" not in self._sipp.stderr_tail() or attempt == 2:
                    raise self._error(f"sipp carrier on {self.address} exited before binding its port")
                log.info("sipp carrier: port %s taken meanwhile, retrying", self.port)
        except BaseException:
            await self._close()
            raise
        raise AssertionError("unreachable")

    async def __aexit__(self, *exc) -> None:
        await self._close()

    def _credential_args(self) -> list[str]:
        if self.behaviour != "registrar":
            return []
        return ["-key", "user", str(self.username), "-key", "password", str(self.password)]

    async def _wait_bound(self) -> bool:
        """True once sipp holds its SIP port; False if it exited first; SippError after start_timeout."""
        deadline = time.monotonic() + self.start_timeout
        proc = self._sipp.proc
        while True:
            if proc.returncode is not None:
                return False
            if process_holds_udp(proc.pid, self.ip, self.port):
                return True
            if time.monotonic() > deadline:
                raise self._error(f"sipp carrier did not bind {self.address} within {self.start_timeout} s")
            await asyncio.sleep(0.01)

    def _error(self, message: str) -> SippError:
        return self._sipp.error(message)

    async def _close(self) -> None:
        try:
            if self._sipp is not None:
                await self._sipp.stop()
                self._final_log, self._final_err = self._sipp.message_log(), self._sipp.stderr_tail()
        finally:
            if self._tmp is not None:
                self._tmp.cleanup()
                self._tmp = None

    def message_log(self) -> str:
        """The carrier's sipp message log so far (kept after exit)."""
        if self._tmp is None or self._sipp is None:
            return self._final_log
        return self._sipp.message_log()

    def stderr_tail(self) -> str:
        """sipp's stderr and error-log tail (unexpected messages, failed calls); kept after exit."""
        if self._tmp is None or self._sipp is None:
            return self._final_err
        return self._sipp.stderr_tail()

    def invites(self) -> list[CarrierInvite]:
        """The calls the PBX placed to the carrier so far, in arrival order (one per Call-ID)."""
        return parse_carrier_invites(parse_message_log(self.message_log()))

    async def wait_invites(self, n: int = 1, timeout: float = 5.0) -> list[CarrierInvite]:
        """Poll until at least ``n`` calls arrived or ``timeout`` s passed; returns ``invites()``."""
        deadline = time.monotonic() + timeout
        while len(invites := self.invites()) < n and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return invites

    def requests(self, method: str) -> list[CarrierRequest]:
        """Every ``method`` request received so far (each CSeq once: challenged and authenticated
        attempts are separate), with the carrier's answer."""
        return parse_carrier_requests(parse_message_log(self.message_log()), method)

    def registrations(self) -> list[CarrierRequest]:
        """The REGISTER requests received so far: ``requests("REGISTER")``."""
        return self.requests("REGISTER")

    async def wait_registered(self, timeout: float = 10.0) -> CarrierRequest:
        """Until a REGISTER (not a removal) got a 200; returns it. SippError after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while True:
            for r in self.registrations():
                if r.answer == 200 and r.expires != 0:
                    return r
            if time.monotonic() > deadline:
                raise SippError(
                    f"no registration accepted by the carrier within {timeout} s: "
                    f"{[(r.auth_username, r.answer) for r in self.registrations()]}",
                    stderr_tail=self.stderr_tail(),
                    message_log=self.message_log(),
                )
            await asyncio.sleep(0.05)
