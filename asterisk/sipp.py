"""Asyncio harness over the sipp binary: registered test phones, test calls and call bursts.

Used by the integration tests and the benchmark. Everything runs sipp in the foreground as a child process
(``asyncio.create_subprocess_exec``) in a private temporary folder, with every wait bounded by a timeout; the
child is killed on timeout or cancellation. Results come from sipp's ``-trace_msg`` message log, which sipp
flushes as it goes (µs timestamps), so it can be polled while sipp runs.

Scenarios live in ``asterisk/sipp/*.xml``:

* phones: ``register.xml`` (REGISTER + digest, then holds 1 h) with ``-oocsf phone_<behaviour>.xml``;
  ``unregister.xml`` (``Contact: *``, ``Expires: 0``).
* callers: ``call_<scenario>.xml``; all do INVITE -> 401 -> ACK -> INVITE + digest. The caller number is
  ``-key caller N`` and ``-au N -ap PW``, the dialled number is ``-s``; hold times are ``-d`` ms.
* the carrier trunk (the PBX knows the carrier by its source IP, 127.0.0.2, no auth): calls from the public
  network ``carrier_call_<scenario>.xml`` (INVITE to the DID ``-s``, ``-key from_addr NAME-ADDR``,
  ``-key privacy none|id``), and the carrier's side of outbound calls ``carrier_uas_<behaviour>.xml``
  (plain UAS, one call per INVITE).
* a carrier that wants credentials: ``carrier_uas_registrar.xml`` (``-key user U -key password P``), a
  registrar and UAS that challenges REGISTERs and INVITEs (401) and checks their digests (``<verifyauth>``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import socket
import struct
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Self
from urllib.parse import unquote

from .rtp_pcap import write_rtp_pcap

log = logging.getLogger(__name__)

SCENARIO_DIR = Path(__file__).with_name("sipp")
SIPP_BIN = os.environ.get("SIPP_BIN") or shutil.which("sipp") or "/usr/bin/sipp"

PHONE_BEHAVIOURS = {
    "answer": "phone_answer.xml",
    "answer_hangup": "phone_answer_hangup.xml",
    "busy": "phone_busy.xml",
    "ring": "phone_ring.xml",
}
CALL_SCENARIOS = {
    "answered_caller_bye": "call_answered_caller_bye.xml",
    "answered_wait_bye": "call_answered_wait_bye.xml",
    "long_audio_caller_bye": "call_long_audio_caller_bye.xml",  # a template: LONG_AUDIO_SECONDS of RTP
    "expect_failure": "call_expect_failure.xml",
    "cancel": "call_cancel.xml",
    "bench": "call_bench.xml",
    "dtmf_caller_bye": "call_dtmf_caller_bye.xml",  # a template: place_call(dtmf=...) fills it
}
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
#: final responses call_expect_failure.xml accepts
FAILURE_CODES = frozenset({403, 404, 408, 480, 484, 486, 487, 488, 500, 502, 503, 600, 603})
#: a carrier call is not challenged: a 401 means the PBX did not take it for a trunk's call at all
CARRIER_FAILURE_CODES = FAILURE_CODES | {401}
#: the final code each caller scenario must see to count as ok
_EXPECTED_FINAL = {
    "answered_caller_bye": {200},
    "answered_wait_bye": {200},
    "long_audio_caller_bye": {200},
    "bench": {200},
    "dtmf_caller_bye": {200},
    "expect_failure": FAILURE_CODES,
    "cancel": {487},
}
_STDERR_NOISE = re.compile(r"^(In pcap |max pkt length|base port |Resolving remote host)")


class SippError(RuntimeError):
    """sipp failed or timed out; the message carries sipp's stderr / error-log tail."""

    def __init__(
        self,
        message: str,
        *,
        returncode: int | None = None,
        stderr_tail: str = "",
        message_log: str = "",
        setup_ms: list[float] | None = None,
    ):
        details = f"{message} (sipp returncode={returncode})"
        if stderr_tail:
            details += f"\n--- sipp stderr/errors (tail) ---\n{stderr_tail}"
        super().__init__(details)
        self.returncode, self.stderr_tail, self.message_log = returncode, stderr_tail, message_log
        self.setup_ms = setup_ms or []


# ---------------------------------------------------------------------------------------------- ports


def free_udp_port(host: str = "127.0.0.1") -> int:
    """A UDP port on ``host`` that is free right now (the kernel's pick from the ephemeral range)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def free_port_pair(host: str = "127.0.0.1") -> int:
    """An even UDP port ``p`` with ``p`` and ``p + 2`` free: sipp's ``-mp`` (it binds mp and mp+2)."""
    for _ in range(100):
        p = free_udp_port(host) & ~1
        socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2)]
        try:
            socks[0].bind((host, p))
            socks[1].bind((host, p + 2))
            return p
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free UDP port pair found")


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


# ------------------------------------------------------------------------------------ processes


def _tail(text: str, limit: int = 3000) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip() and not _STDERR_NOISE.match(ln)]
    return "\n".join(lines)[-limit:]


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""


class _Sipp:
    """One sipp child process with its files in ``workdir`` (messages.log, errors.log, stderr.txt)."""

    def __init__(self, workdir: Path, name: str):
        self.workdir, self.name = workdir, name
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def message_file(self) -> Path:
        return self.workdir / f"{self.name}.messages.log"

    def args(self, scenario: str, local_ip: str, remote: str | None, *extra: str) -> list[str]:
        """Command line: the options every run gets (free SIP, media pair and control ports, logs, no
        keyboard), then ``extra``, then the remote ``host:port`` (None: a UAS, no remote)."""
        return [
            SIPP_BIN,
            "-sf",
            str(SCENARIO_DIR / scenario),
            "-i",
            local_ip,
            "-p",
            str(free_udp_port(local_ip)),
            "-mi",
            local_ip,
            "-mp",
            str(free_port_pair(local_ip)),
            "-ci",
            local_ip,
            "-cp",
            str(free_udp_port(local_ip)),  # else every sipp grabs 0.0.0.0:8888+
            "-nostdin",
            "-trace_msg",
            "-message_file",
            str(self.message_file),
            "-trace_err",
            "-error_file",
            str(self.workdir / f"{self.name}.errors.log"),
            *extra,
            *([remote] if remote else []),
        ]

    async def start(self, args: list[str]) -> None:
        with open(self.workdir / f"{self.name}.stderr.txt", "wb") as err:  # noqa: ASYNC230 (local, instant)
            self.proc = await asyncio.create_subprocess_exec(
                *args,
                cwd=self.workdir,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=err,
            )  # stdout = sipp's screen: not wanted

    async def wait(self, timeout: float) -> bool:
        """Wait for exit; False on timeout (the process is left running)."""
        try:
            await asyncio.wait_for(self.proc.wait(), timeout)
            return True
        except TimeoutError:
            return False

    async def stop(self, grace: float = 2.0) -> None:
        """SIGTERM, then SIGKILL after ``grace`` s. Safe to call twice and from a cancelled task."""
        p = self.proc
        if p is None or p.returncode is not None:
            return
        try:
            if grace > 0:
                p.terminate()
                if await self.wait(grace):
                    return
            p.kill()
            await self.wait(5.0)
        except ProcessLookupError:
            pass
        except BaseException:
            if p.returncode is None:
                p.kill()
            raise

    def message_log(self) -> str:
        return _read(self.message_file)

    def error(self, message: str) -> SippError:
        """A SippError carrying this process's exit code, stderr and message log."""
        return SippError(
            message,
            returncode=self.proc.returncode if self.proc else None,
            stderr_tail=self.stderr_tail(),
            message_log=self.message_log(),
        )

    def stderr_tail(self) -> str:
        """stderr plus the lines of the -trace_err log that stderr does not already show."""
        err = _read(self.workdir / f"{self.name}.stderr.txt")
        extra = [ln for ln in _read(self.workdir / f"{self.name}.errors.log").splitlines() if ln not in err]
        return _tail("\n".join([err, *extra]))

    async def run(self, args: list[str], timeout: float) -> int | None:
        """Start and wait up to ``timeout`` s; returncode, None when it had to be killed."""
        await self.start(args)
        try:
            if await self.wait(timeout):
                return self.proc.returncode
            return None
        finally:
            await self.stop(grace=0)  # kill at once on timeout or cancellation; no-op after a normal exit


# ----------------------------------------------------------------------------------------- calls


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


def _caller_args(
    sipp: _Sipp,
    scenario: str,
    caller: str,
    password: str,
    dialled: str,
    remote: str,
    local_ip: str,
    hold_ms: int,
    recv_timeout_ms: int,
    *extra: str,
) -> list[str]:
    return sipp.args(
        scenario,
        local_ip,
        remote,
        "-key",
        "caller",
        caller,
        "-s",
        dialled,
        "-au",
        caller,
        "-ap",
        password,
        "-d",
        str(hold_ms),
        "-recv_timeout",
        str(recv_timeout_ms),  # an unanswered recv fails (CANCEL/BYE) the call
        *extra,
    )


async def place_call(
    caller: str,
    password: str,
    dialled: str,
    pbx_sip_port: int,
    scenario: str = "answered_caller_bye",
    *,
    hold_ms: int = 1000,
    timeout: float | None = None,
    pbx_host: str = "127.0.0.1",
    local_ip: str = "127.0.0.1",
    dtmf: Sequence[tuple[int, str]] = (),
) -> CallResult:
    """Place one call from phone ``caller`` (digest auth with ``password``) to ``dialled``.

    ``scenario``: answered_caller_bye (hold ``hold_ms`` then BYE), answered_wait_bye (wait up to 60 s for
    the PBX's BYE), expect_failure (any failure code; 200 fails), cancel (CANCEL 1 s after 180), bench,
    dtmf_caller_bye (once answered, for each ``(pause_ms, keys)`` of ``dtmf``: wait, then press the keys
    as RFC 4733 events; then hold ``hold_ms`` and BYE).
    ``ok`` = sipp exited 0 and the final code is what the scenario expects (200, a failure, 487).
    Never raises for a failed call (see ``CallResult.check``); the process is killed after ``timeout`` s.
    """
    xml = CALL_SCENARIOS[scenario]
    if timeout is None:
        timeout = 75.0 if scenario == "answered_wait_bye" else hold_ms / 1000 + 20.0
        timeout += sum(pause for pause, _ in dtmf) / 1000
        timeout += LONG_AUDIO_SECONDS if scenario == "long_audio_caller_bye" else 0
    with tempfile.TemporaryDirectory(prefix="sipp-call-") as wd:
        sipp = _Sipp(Path(wd), "call")
        if scenario == "dtmf_caller_bye":
            xml = str(_dtmf_scenario(Path(wd), dtmf))
        elif scenario == "long_audio_caller_bye":
            xml = str(_long_audio_scenario(Path(wd)))
        rc = await sipp.run(
            _caller_args(
                sipp,
                xml,
                caller,
                password,
                dialled,
                f"{pbx_host}:{pbx_sip_port}",
                local_ip,
                hold_ms,
                max(1000, int(timeout * 1000) - 2000),
                "-m",
                "1",
            ),
            timeout,
        )
        text, err = sipp.message_log(), sipp.stderr_tail()
    if rc is None:
        err = f"sipp killed after {timeout:.1f} s timeout\n{err}"
    calls = list(summarize_calls(parse_message_log(text)).values())
    s = calls[0] if calls else CallSummary("", [], None, None)
    ok = rc == 0 and s.final_code in _EXPECTED_FINAL[scenario]
    return CallResult(ok, s.final_code, s.codes_seen, s.setup_ms, rc, err, text, scenario)


_DTMF_KEYS = re.compile(r"^[0-9*#]{1,20}$")


def _dtmf_scenario(workdir: Path, dtmf: Sequence[tuple[int, str]]) -> Path:
    """The DTMF call scenario with its steps filled in: a pause, then the keys (sipp's play_dtmf)."""
    if not dtmf:
        raise ValueError("dtmf_caller_bye needs dtmf=[(pause_ms, keys), ...]")
    steps = []
    for pause_ms, keys in dtmf:
        if not _DTMF_KEYS.fullmatch(keys) or pause_ms < 0:
            raise ValueError(f"bad DTMF step {(pause_ms, keys)!r}")
        # play_dtmf plays in its own thread, after 400 ms of filler packets, 250 ms per key by default
        steps.append(f'  <pause milliseconds="{pause_ms}"/>')
        steps.append(f'  <nop><action><exec play_dtmf="{keys}"/></action></nop>')
    template = (SCENARIO_DIR / CALL_SCENARIOS["dtmf_caller_bye"]).read_text()
    path = workdir / "call_dtmf.xml"
    path.write_text(template.replace("@DTMF_STEPS@", "\n".join(steps)))
    return path


#: how long the caller of long_audio_caller_bye talks before its hold
LONG_AUDIO_SECONDS = 30


def _long_audio_scenario(workdir: Path) -> Path:
    """The long-audio call scenario with its pcap written next to it."""
    pcap = write_rtp_pcap(workdir / "long_audio.pcap", LONG_AUDIO_SECONDS)
    template = (SCENARIO_DIR / CALL_SCENARIOS["long_audio_caller_bye"]).read_text()
    path = workdir / "call_long_audio.xml"
    filled = template.replace("@PCAP@", str(pcap)).replace("@AUDIO_MS@", str(LONG_AUDIO_SECONDS * 1000))
    path.write_text(filled.replace("@AUDIO_SECONDS@", str(LONG_AUDIO_SECONDS)))
    return path


async def run_calls(
    caller: str,
    password: str,
    dialled: str,
    pbx_sip_port: int,
    n: int,
    rate: float = 10.0,
    *,
    hold_ms: int = 200,
    timeout: float | None = None,
    pbx_host: str = "127.0.0.1",
    local_ip: str = "127.0.0.1",
) -> list[float]:
    """Benchmark: ``n`` calls with call_bench.xml in ONE sipp run (``-m n -r rate``), each answered, held
    ``hold_ms`` and hung up by the caller. Returns the per-call set-up times (INVITE+auth sent -> 200
    received, ms) in call order. Raises SippError (partial times in ``.setup_ms``) unless all n succeed."""
    if timeout is None:
        timeout = n / rate + hold_ms / 1000 + 30.0
    with tempfile.TemporaryDirectory(prefix="sipp-bench-") as wd:
        sipp = _Sipp(Path(wd), "bench")
        args = _caller_args(
            sipp,
            CALL_SCENARIOS["bench"],
            caller,
            password,
            dialled,
            f"{pbx_host}:{pbx_sip_port}",
            local_ip,
            hold_ms,
            10000,
            "-m",
            str(n),
            "-r",
            str(rate),
        )
        rc = await sipp.run(args, timeout)
        text, err = sipp.message_log(), sipp.stderr_tail()
    calls = summarize_calls(parse_message_log(text)).values()
    times = [c.setup_ms for c in calls if c.setup_ms is not None]
    if rc != 0 or len(times) != n:
        why = f"killed after {timeout:.1f} s timeout" if rc is None else f"{len(times)}/{n} calls answered"
        raise SippError(
            f"benchmark run failed: {why}", returncode=rc, stderr_tail=err, message_log=text, setup_ms=times
        )
    return times


# ----------------------------------------------------------------------------------------- phones


class SippPhone:
    """A registered test phone: ``async with SippPhone("102", "pw", 5060, "busy") as phone: ...``.

    Entering registers ``number`` (digest, username = number) from a sipp process that stays up with
    ``-oocsf phone_<behaviour>.xml``: answer (answers, waits for BYE), answer_hangup (answers, hangs up after
    ``hold_ms``), busy (486), ring (180 forever, handles CANCEL). Incoming OPTIONS/NOTIFY/INFO/UPDATE are
    answered 200 (``-aa``) and RTP is echoed (``-rtp_echo``). It returns once the REGISTER got its 200;
    exiting unregisters (Expires: 0) and stops sipp.
    """

    def __init__(
        self,
        number: str,
        password: str,
        pbx_sip_port: int,
        behaviour: str = "answer",
        *,
        hold_ms: int = 2000,
        pbx_host: str = "127.0.0.1",
        local_ip: str = "127.0.0.1",
        register_timeout: float = 10.0,
    ):
        if behaviour not in PHONE_BEHAVIOURS:
            raise ValueError(f"behaviour must be one of {sorted(PHONE_BEHAVIOURS)}")
        self.number, self.password, self.behaviour, self.hold_ms = number, password, behaviour, hold_ms
        self.remote, self.local_ip, self.register_timeout = (
            f"{pbx_host}:{pbx_sip_port}",
            local_ip,
            register_timeout,
        )
        self.sip_port: int | None = None
        self._tmp: tempfile.TemporaryDirectory | None = None
        self._sipp: _Sipp | None = None
        self._final_log = ""
        #: outcome of the unregister on exit (None: not run or succeeded); exit never raises for it
        self.unregister_error: SippError | None = None

    async def __aenter__(self) -> Self:
        self._tmp = tempfile.TemporaryDirectory(prefix=f"sipp-phone-{self.number}-")
        self._sipp = _Sipp(Path(self._tmp.name), "phone")
        args = self._sipp.args(
            "register.xml",
            self.local_ip,
            self.remote,
            "-oocsf",
            str(SCENARIO_DIR / PHONE_BEHAVIOURS[self.behaviour]),
            "-s",
            self.number,
            "-au",
            self.number,
            "-ap",
            self.password,
            "-m",
            "1",
            "-d",
            str(self.hold_ms),
            "-aa",
            "-rtp_echo",
        )
        self.sip_port = int(args[args.index("-p") + 1])
        try:
            await self._sipp.start(args)
            await self._wait_registered()
        except BaseException:
            await self._close()
            raise
        return self

    async def __aexit__(self, *exc) -> None:
        try:
            await self.unregister()
        finally:
            await self._close()

    async def _wait_registered(self) -> None:
        deadline = time.monotonic() + self.register_timeout
        while True:
            for m in parse_message_log(self._sipp.message_log()):
                if not m.sent and m.cseq_method == "REGISTER" and m.code is not None:
                    if m.code == 200:
                        return
                    if m.code >= 300 and m.cseq > 1:  # refused after authenticating
                        raise self._error(f"REGISTER {self.number} refused with {m.code}")
            if self._sipp.proc.returncode is not None:
                raise self._error(f"sipp phone {self.number} exited before registering")
            if time.monotonic() > deadline:
                raise self._error(f"REGISTER {self.number} not answered 200 within {self.register_timeout} s")
            await asyncio.sleep(0.02)

    def _error(self, message: str) -> SippError:
        return self._sipp.error(message)

    async def unregister(self, timeout: float = 5.0) -> bool:
        """REGISTER Expires: 0 (``Contact: *``) from a separate short sipp run. Logs, never raises."""
        sipp = _Sipp(Path(self._tmp.name), "unregister")
        args = sipp.args(
            "unregister.xml",
            self.local_ip,
            self.remote,
            "-s",
            self.number,
            "-au",
            self.number,
            "-ap",
            self.password,
            "-m",
            "1",
        )
        rc = await sipp.run(args, timeout)
        if rc == 0:
            return True
        self.unregister_error = SippError(
            f"unregister {self.number} failed",
            returncode=rc,
            stderr_tail=sipp.stderr_tail(),
            message_log=sipp.message_log(),
        )
        log.warning("%s", self.unregister_error)
        return False

    async def _close(self) -> None:
        try:
            if self._sipp is not None:
                await self._sipp.stop()
                self._final_log = self._sipp.message_log()
        finally:
            if self._tmp is not None:
                self._tmp.cleanup()
                self._tmp = None

    def message_log(self) -> str:
        """The phone's sipp message log so far (kept after exit)."""
        return self._sipp.message_log() if self._tmp is not None else self._final_log

    def invites_received(self) -> int:
        """How many calls rang this phone: distinct Call-IDs of received INVITEs (retransmissions and
        re-INVITEs count once)."""
        return len(
            {m.call_id for m in parse_message_log(self.message_log()) if not m.sent and m.method == "INVITE"}
        )

    async def wait_invites(self, n: int = 1, timeout: float = 5.0) -> int:
        """Poll until at least ``n`` INVITEs arrived or ``timeout`` s passed; returns the count."""
        deadline = time.monotonic() + timeout
        while (count := self.invites_received()) < n and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return count


# ------------------------------------------------------------------------------------ carrier trunk


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
        sipp = _Sipp(Path(wd), "carrier-call")
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
    expected = CARRIER_FAILURE_CODES if scenario == "expect_failure" else _EXPECTED_FINAL[scenario]
    ok = rc == 0 and s.final_code in expected
    return CallResult(ok, s.final_code, s.codes_seen, s.setup_ms, rc, err, text, f"carrier_{scenario}")


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


def _udp_socket_inodes(ip: str, port: int) -> set[str] | None:
    """Inodes of the UDP sockets bound to ``ip:port`` (or the wildcard), from /proc/net/udp; None when that
    file is not readable (not Linux)."""
    want_ip = f"{struct.unpack('=I', socket.inet_aton(ip))[0]:08X}"  # the kernel prints the raw be32
    try:
        lines = Path("/proc/net/udp").read_text().splitlines()[1:]
    except OSError:
        return None
    out = set()
    for line in lines:
        cols = line.split()
        if len(cols) > 9:
            addr, _, hexport = cols[1].partition(":")
            if addr in (want_ip, "00000000") and int(hexport, 16) == port:
                out.add(cols[9])
    return out


def _process_holds_udp(pid: int, ip: str, port: int) -> bool:
    """True once process ``pid`` has bound UDP ``ip:port`` (Linux: /proc; elsewhere: our bind fails)."""
    inodes = _udp_socket_inodes(ip, port)
    if inodes is None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind((ip, port))
            except OSError:
                return True
            return False
    if not inodes:
        return False
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:[") and link[8:-1] in inodes:
            return True
    return False


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
        self._sipp: _Sipp | None = None
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
                self._sipp = _Sipp(Path(self._tmp.name), f"carrier{attempt}")
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
            if _process_holds_udp(proc.pid, self.ip, self.port):
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
