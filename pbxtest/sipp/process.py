"""Running sipp: one child process in a private folder, free ports, and its logs.

Everything runs sipp in the foreground as a child process (``asyncio.create_subprocess_exec``) in a private
temporary folder, with every wait bounded by a timeout; the child is killed on timeout or cancellation.
Results come from sipp's ``-trace_msg`` message log, which sipp flushes as it goes (µs timestamps), so it
can be polled while sipp runs (``messages`` reads it). Scenarios live in ``scenarios/`` beside this file.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import struct
from pathlib import Path

SCENARIO_DIR = Path(__file__).with_name("scenarios")
SIPP_BIN = os.environ.get("SIPP_BIN") or shutil.which("sipp") or "/usr/bin/sipp"


def scenario_file(name: str) -> Path:
    """The scenario ``name`` in ``SCENARIO_DIR`` (an absolute path, e.g. a filled-in template, stays so)."""
    return SCENARIO_DIR / name


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


# ------------------------------------------------------------------------------------ processes


def _tail(text: str, limit: int = 3000) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip() and not _STDERR_NOISE.match(ln)]
    return "\n".join(lines)[-limit:]


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""


class SippProcess:
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
            str(scenario_file(scenario)),
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

    def bind_failed(self) -> bool:
        """Whether sipp exited because a port it was given was taken (errno 98: in use)."""
        return (
            self.proc is not None
            and self.proc.returncode is not None
            and ("errno = 98" in self.stderr_tail() or "Address already in use" in self.stderr_tail())
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


# --------------------------------------------------------------------------------- bound ports


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


def process_holds_udp(pid: int, ip: str, port: int) -> bool:
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
