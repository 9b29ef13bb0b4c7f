"""One private Asterisk process: its configuration, start, stop and health."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import signal
import socket
import subprocess
import time
from importlib import resources
from pathlib import Path

import httpx

from .errors import AsteriskError
from .installer import AsteriskDist

SOCKET_PATH_MAX = 107  # sun_path is 108 bytes including the trailing NUL
USER_AGENT = "chatops-pbx"
SUBDIRS = (
    "etc",
    "lib/keys",
    "spool/recording",
    "spool/tmp",
    "spool/outgoing",
    "spool/monitor",
    "log",
    "run",
    "cache",
)
# A fallback when the distribution ships no indications.conf: Asterisk then has no ring/busy tones at all.
INDICATIONS_FALLBACK = """[general]
country = us

[us]
description = United States / North America
ringcadence = 2000,4000
dial = 350+440
busy = 480+620/500,0/500
ring = 440+480/2000,0/4000
congestion = 480+620/250,0/250
callwaiting = 440/300,0/10000
dialrecall = !350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,350+440
record = 1400/500,0/15000
info = !950/330,!1400/330,!1800/330,0
stutter = !350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,350+440
"""


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# a row of `pjsip show registrations`: " trunk-x/sip:host:port   trunk-x   Registered   (exp. 109s)"
_REGISTRATION_ROW = re.compile(
    r"^\s*([^\s/]+)/sip\S*\s.*?\b(Registered|Unregistered|Rejected|Stopped)\b", re.MULTILINE
)


def parse_registrations(text: str) -> dict[str, str]:
    """`pjsip show registrations` output as {registration id: status}, e.g. {"trunk-x": "Registered"}."""
    return {m.group(1): m.group(2) for m in _REGISTRATION_ROW.finditer(text)}


class AsteriskInstance:
    """A private Asterisk whose config, database, logs and spool all live under ``state_dir``.

    Phones are not part of the config: the PBX pushes them at run time over ARI.
    """

    def __init__(
        self,
        dist: AsteriskDist,
        state_dir: Path,
        *,
        bind: str = "127.0.0.1",
        sip_port: int = 5060,
        http_port: int = 8088,
        rtp_start: int = 10000,
        rtp_end: int = 10999,
        ari_user: str = "pbx",
        ari_password: str,
        app: str = "pbx",
        name: str = "pbx",
    ):
        for what, port in (
            ("sip_port", sip_port),
            ("http_port", http_port),
            ("rtp_start", rtp_start),
            ("rtp_end", rtp_end),
        ):
            if not 1 <= port <= 65535:
                raise AsteriskError(f"Invalid Asterisk {what} {port}: use a port between 1 and 65535.")
        if rtp_start > rtp_end:
            raise AsteriskError(
                f"Invalid RTP port range {rtp_start}-{rtp_end}: the start must not exceed the end."
            )
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", ari_user):
            raise AsteriskError(f"Invalid ARI user name {ari_user!r}: use letters, digits, '.', '_' or '-'.")
        if not ari_password or ari_password != ari_password.strip() or re.search(r"[\r\n\0]", ari_password):
            raise AsteriskError(
                "Invalid ARI password: it must be non-empty, on one line, without surrounding spaces."
            )
        for what, value in (("app", app), ("name", name)):
            if not re.fullmatch(r"[A-Za-z0-9_.-]+", value):
                raise AsteriskError(
                    f"Invalid Asterisk {what} {value!r}: use letters, digits, '.', '_' or '-'."
                )
        self.dist = dist
        self.state_dir = Path(state_dir).expanduser().absolute()
        self.bind, self.sip_port, self.http_port = bind, sip_port, http_port
        self.rtp_start, self.rtp_end = rtp_start, rtp_end
        self.ari_user, self.ari_password, self.app, self.name = ari_user, ari_password, app, name
        self._proc: subprocess.Popen | None = None
        self.boot_seconds: float | None = None  # how long the last start() took

    # -- paths -----------------------------------------------------------------------------------------
    @property
    def etc_dir(self) -> Path:
        return self.state_dir / "etc"

    @property
    def conf_path(self) -> Path:
        return self.etc_dir / "asterisk.conf"

    @property
    def pid_path(self) -> Path:
        return self.state_dir / "asterisk.pid"

    @property
    def console_log(self) -> Path:
        return self.state_dir / "log/console.log"

    @property
    def run_dir(self) -> Path:
        """state_dir/run, or /tmp/pbx-ast-<hash> when the control socket path would be too long there."""
        run = self.state_dir / "run"
        if len(os.fsencode(run / "asterisk.ctl")) <= SOCKET_PATH_MAX:
            return run
        return Path("/tmp") / f"pbx-ast-{hashlib.sha256(os.fsencode(self.state_dir)).hexdigest()[:8]}"

    @property
    def ari_url(self) -> str:
        """Base URL of the HTTP server (ARI lives under ari/)."""
        return f"http://{_hostport(self.bind, self.http_port)}/"

    # -- config ----------------------------------------------------------------------------------------
    def render(self) -> None:
        """Write the configuration into state_dir/etc and create the instance's folders."""
        for sub in SUBDIRS:
            (self.state_dir / sub).mkdir(parents=True, exist_ok=True)
        run = self.run_dir
        if run.parent != self.state_dir:
            self._make_short_run_dir(run)
        values = {
            "NAME": self.name,
            "STATE_DIR": str(self.state_dir),
            "ETC_DIR": str(self.etc_dir),
            "RUN_DIR": str(run),
            "MOD_DIR": self.dist.moddir,
            "DATA_DIR": self.dist.datadir,
            "SBIN_DIR": self.dist.sbindir,
            "BIND": self.bind,
            "SIP_BIND": _hostport(self.bind, self.sip_port),
            "HTTP_PORT": str(self.http_port),
            "RTP_START": str(self.rtp_start),
            "RTP_END": str(self.rtp_end),
            "ARI_USER": self.ari_user,
            "ARI_PASSWORD": self.ari_password.replace(";", r"\;"),  # ; starts a comment
            "APP": self.app,
            "USER_AGENT": USER_AGENT,
        }

        def subst(m: re.Match) -> str:
            return values[m.group(1)]

        for tpl in resources.files(__package__).joinpath("templates").iterdir():
            if tpl.name.endswith(".conf"):
                text = re.sub(r"@([A-Z_]+)@", subst, tpl.read_text())  # one pass: values are never rescanned
                _write_atomic(self.etc_dir / tpl.name, text, 0o600 if tpl.name == "ari.conf" else 0o644)
        try:
            indications = (Path(self.dist.distro_etc) / "indications.conf").read_text()
        except OSError:
            indications = INDICATIONS_FALLBACK
        _write_atomic(self.etc_dir / "indications.conf", indications, 0o644)

    def _make_short_run_dir(self, run: Path) -> None:
        run.mkdir(mode=0o700, exist_ok=True)
        st = os.lstat(run)
        if st.st_uid != os.geteuid() or not run.is_dir() or run.is_symlink():
            raise AsteriskError(
                f"{run} (the run folder of the Asterisk in {self.state_dir}) belongs to someone "
                f"else: remove it, or use a shorter state folder."
            )
        (self.state_dir / "run/README").write_text(
            f"The control socket lives in {run} (path length limit).\n"
        )

    # -- process ---------------------------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        """Process id of the running Asterisk, or None."""
        if self._proc is not None:
            if self._proc.poll() is None:
                return self._proc.pid
            self._proc = None  # reaped: it won't linger as a zombie that looks alive
        try:
            pid = int(self.pid_path.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if self._is_ours(pid) else None

    def _is_ours(self, pid: int) -> bool:
        """Alive (not a zombie) and really this instance's Asterisk, not a recycled pid."""
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        return stat.rpartition(")")[2].split()[0] != "Z" and os.fsencode(self.conf_path) in cmdline

    def is_running(self) -> bool:
        """True if this instance's Asterisk process is alive."""
        return self.pid is not None

    def start(self, timeout: float = 30) -> None:
        """Start Asterisk detached and return once it is fully booted and ARI answers; no-op if running."""
        if self.is_running():
            return
        self._check_ports()
        self.render()
        t0 = time.monotonic()
        with open(self.console_log, "ab") as log:
            self._proc = subprocess.Popen(
                [*self.dist.argv, "-C", str(self.conf_path), "-f", "-n", "-g"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.state_dir,
                start_new_session=True,
            )
        _write_atomic(self.pid_path, f"{self._proc.pid}\n", 0o644)
        booted, deadline = False, t0 + timeout
        while True:
            if self._proc.poll() is not None:
                code = self._proc.returncode
                self._proc = None
                self.pid_path.unlink(missing_ok=True)
                raise AsteriskError(
                    f"Asterisk {self.name} exited during start-up (exit code {code}): "
                    f"{self._log_tail()} (see {self.console_log} and messages.log there)."
                )
            if not booted:
                left = max(0.5, deadline - time.monotonic())
                booted = "fully booted" in self._rx("core waitfullybooted", timeout=left)
            elif self._ari_answers(self.ari_password):
                self.boot_seconds = time.monotonic() - t0
                return
            if time.monotonic() > deadline:
                what = "ARI did not answer" if booted else "it did not finish booting"
                self.stop()
                raise AsteriskError(
                    f"Asterisk {self.name} was not ready after {timeout:.0f} s ({what}); "
                    f"it was stopped. Last log lines: {self._log_tail()}"
                )
            time.sleep(0.05)

    def stop(self, timeout: float = 10) -> None:
        """Stop Asterisk (core stop now, then SIGTERM, then SIGKILL); no-op if it is not running."""
        pid = self.pid
        if pid is not None:
            self._rx("core stop now", timeout=timeout)
            for sig in (None, signal.SIGTERM, signal.SIGKILL):
                if sig is not None:
                    try:
                        os.kill(pid, sig)
                    except ProcessLookupError:
                        break
                if self._wait_exit(timeout if sig is None else 3):
                    break
        self._proc = None
        self.pid_path.unlink(missing_ok=True)
        if self.run_dir.parent != self.state_dir:
            with contextlib.suppress(OSError):  # the short /tmp run dir, once Asterisk has removed its socket
                self.run_dir.rmdir()

    def _wait_exit(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.is_running():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    # -- talking to it ---------------------------------------------------------------------------------
    def _run_rx(self, command: str, timeout: float) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*self.dist.argv, "-C", str(self.conf_path), "-rx", command],
            check=False,
            capture_output=True,
            text=True,
            errors="replace",  # Asterisk prints whatever bytes an endpoint or a header holds
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def _rx(self, command: str, timeout: float = 30) -> str:
        """Output of a CLI command ('' if Asterisk cannot be reached)."""
        try:
            res = self._run_rx(command, timeout)
        except (OSError, subprocess.TimeoutExpired):
            return ""
        return res.stdout if res.returncode == 0 else ""

    def cli(self, command: str) -> str:
        """Run an Asterisk CLI command (like ``asterisk -rx``) and return its output."""
        if not self.is_running():
            raise AsteriskError(
                f"Asterisk {self.name} is not running (state dir {self.state_dir}): start the PBX first."
            )
        try:
            res = self._run_rx(command, 60)
        except subprocess.TimeoutExpired:
            raise AsteriskError(
                f"Asterisk {self.name} did not answer the CLI command {command!r} within 60 s: "
                f"it may be stuck; restart the PBX."
            ) from None
        if res.returncode != 0:
            raise AsteriskError(
                f"Asterisk {self.name} CLI command {command!r} failed: "
                f"{(res.stdout + res.stderr).strip()[-300:]}"
            )
        return res.stdout

    def _ari_answers(self, password: str) -> bool:
        try:
            r = httpx.get(
                self.ari_url + "ari/asterisk/info", auth=(self.ari_user, password), timeout=2, trust_env=False
            )  # a proxy from the environment must not see local ARI traffic
        except httpx.HTTPError:
            return False
        return r.status_code == 200

    def status(self) -> dict:
        """running, pid, version, uptime (seconds or None), sip_port, http_port, ari_ok."""
        pid = self.pid
        uptime = None
        if pid is not None:
            m = re.search(r"System uptime:\s*(\d+)", self._rx("core show uptime seconds", timeout=5))
            uptime = int(m.group(1)) if m else None
        return {
            "running": pid is not None,
            "pid": pid,
            "version": self.dist.version,
            "uptime": uptime,
            "sip_port": self.sip_port,
            "http_port": self.http_port,
            "ari_ok": pid is not None and self._ari_answers(self.ari_password),
        }

    def outbound_registrations(self) -> dict[str, str]:
        """The live state of each outbound registration ({"trunk-x": "Registered"}, or Unregistered,
        Rejected, Stopped), as Asterisk reports it; {} when it is not running. ARI has no such query."""
        if self.pid is None:
            return {}
        return parse_registrations(self._rx("pjsip show registrations", timeout=5))

    # -- helpers ---------------------------------------------------------------------------------------
    def _check_ports(self) -> None:
        family = socket.AF_INET6 if ":" in self.bind else socket.AF_INET
        for kind, port, setting in (
            (socket.SOCK_DGRAM, self.sip_port, "PBX_ASTERISK__SIP_PORT"),
            (socket.SOCK_STREAM, self.http_port, "PBX_ASTERISK__HTTP_PORT"),
        ):
            proto, what = ("udp", "SIP") if kind == socket.SOCK_DGRAM else ("tcp", "HTTP (ARI)")
            with socket.socket(family, kind) as s:
                if kind == socket.SOCK_STREAM:
                    s.setsockopt(
                        socket.SOL_SOCKET, socket.SO_REUSEADDR, 1
                    )  # as Asterisk does: TIME_WAIT is fine
                try:
                    s.bind((self.bind, port))
                except OSError as e:
                    if e.errno == errno.EADDRINUSE:
                        raise AsteriskError(
                            f"The {what} port {port}/{proto} on {self.bind} is already in use "
                            f"(another Asterisk or PBX?): set {setting} to a free port."
                        ) from None
                    if e.errno == errno.EACCES:
                        raise AsteriskError(
                            f"No permission to use the {what} port {port}/{proto}: ports below "
                            f"1024 need root; set {setting} to a port above 1024."
                        ) from None
                    raise AsteriskError(
                        f"Cannot bind the {what} port {port}/{proto} on {self.bind} ({e.strerror}):"
                        f" check the bind address, or set {setting} to another port."
                    ) from None

    def _log_tail(self, lines: int = 5) -> str:
        try:
            text = self.console_log.read_text(errors="replace")
        except OSError:
            text = ""
        tail = [ln.strip() for ln in text.splitlines() if ln.strip()][-lines:]
        return " | ".join(tail) if tail else "(console.log is empty)"


def _write_atomic(path: Path, text: str, mode: int) -> None:
    """Write to a temp name and rename, so a reader never sees half a file; the mode is set before writing."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "w") as f:
            os.fchmod(f.fileno(), mode)  # whatever the umask
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
