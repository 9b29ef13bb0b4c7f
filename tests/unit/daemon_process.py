"""`pbx serve` as a real process, with no Asterisk to talk to (its API answers all the same)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_process(log: Path, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """`pbx serve` for real with `env` (default: the test's environment, PBX_DATA_DIR set by
    tests/conftest.py), its stderr in `log`; yields the process once its PBX_API__PORT answers."""
    env = dict(os.environ if env is None else env)
    port = int(env["PBX_API__PORT"])
    with open(log, "w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pbx.cli", "serve"],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=env,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)


@contextlib.contextmanager
def running_daemon(log: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """`pbx serve` on a free API port (and no Asterisk where it looks for one); yields it and the port."""
    port = free_port()
    env = os.environ | {"PBX_API__PORT": str(port), "PBX_ASTERISK__HTTP_PORT": str(free_port())}
    with serve_process(log, env) as proc:
        yield proc, port


def memory_kib(pid: int, field: str = "VmRSS") -> int:
    """A process's resident memory (VmRSS), or its peak (VmHWM), from /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for process {pid}")


def reset_peak_memory(pid: int) -> None:
    """Start VmHWM afresh at the current VmRSS (Linux: 5 > /proc/<pid>/clear_refs)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
