"""Registered test phones: a sipp UAS that registers, answers (or not) the PBX's calls and unregisters.

A phone runs ``register.xml`` (REGISTER + digest, then holds 1 h) with ``-oocsf phone_<behaviour>.xml``;
leaving runs ``unregister.xml`` (``Contact: *``, ``Expires: 0``).
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from pathlib import Path
from typing import Self

from .messages import parse_message_log
from .process import SippError, SippProcess, scenario_file

log = logging.getLogger(__name__)


BIND_ATTEMPTS = 3  # sipp is started again on fresh ports when one picked free was taken meanwhile
PHONE_BEHAVIOURS = {
    "answer": "phone_answer.xml",
    "answer_hangup": "phone_answer_hangup.xml",
    "answer_refer": "phone_answer_refer.xml",
    "busy": "phone_busy.xml",
    "ring": "phone_ring.xml",
}


class SippPhone:
    """A registered test phone: ``async with SippPhone("102", "pw", 5060, "busy") as phone: ...``.

    Entering registers ``number`` (digest, username = number) from a sipp process that stays up with
    ``-oocsf phone_<behaviour>.xml``: answer (answers, waits for BYE), answer_hangup (answers, hangs up after
    ``hold_ms``), answer_refer (answers, then after ``hold_ms`` transfers blind with its own REFER to
    ``refer_to``, and waits for the PBX to release it), busy (486), ring (180 forever, handles CANCEL).
    Incoming OPTIONS/NOTIFY/INFO/UPDATE are
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
        refer_to: str = "",
    ):
        if behaviour not in PHONE_BEHAVIOURS:
            raise ValueError(f"behaviour must be one of {sorted(PHONE_BEHAVIOURS)}")
        if (behaviour == "answer_refer") != bool(refer_to):
            raise ValueError("refer_to is the number an answer_refer phone transfers to (and only then)")
        self.refer_to = refer_to
        self.number, self.password, self.behaviour, self.hold_ms = number, password, behaviour, hold_ms
        self.remote, self.local_ip, self.register_timeout = (
            f"{pbx_host}:{pbx_sip_port}",
            local_ip,
            register_timeout,
        )
        self.sip_port: int | None = None
        self._tmp: tempfile.TemporaryDirectory | None = None
        self._sipp: SippProcess | None = None
        self._final_log = ""
        #: outcome of the unregister on exit (None: not run or succeeded); exit never raises for it
        self.unregister_error: SippError | None = None

    async def __aenter__(self) -> Self:
        self._tmp = tempfile.TemporaryDirectory(prefix=f"sipp-phone-{self.number}-")
        for attempt in range(1, BIND_ATTEMPTS + 1):
            self._sipp = SippProcess(Path(self._tmp.name), f"phone-{attempt}" if attempt > 1 else "phone")
            args = self._sipp.args(
                "register.xml",
                self.local_ip,
                self.remote,
                "-oocsf",
                str(scenario_file(PHONE_BEHAVIOURS[self.behaviour])),
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
                *(("-key", "refer_to", self.refer_to) if self.refer_to else ()),
            )
            self.sip_port = int(args[args.index("-p") + 1])
            try:
                await self._sipp.start(args)
                await self._wait_registered()
                return self
            except SippError:
                # a port picked free was taken by another test in the instant before sipp bound it
                if attempt < BIND_ATTEMPTS and self._sipp.bind_failed():
                    continue
                await self._close()
                raise
            except BaseException:
                await self._close()
                raise
        raise AssertionError("unreachable")

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
        sipp = SippProcess(Path(self._tmp.name), "unregister")
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
