"""Running `pbx` as a user does: real processes, and a real `pbx serve` for the commands that use it."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

Run = Callable[..., subprocess.CompletedProcess]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_pbx(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess:
    """`pbx ARGS...` as a real process (stdin is not a terminal)."""
    return subprocess.run(
        [sys.executable, "-m", "pbx.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
        env=env,
    )


@contextlib.contextmanager
def serving(log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`pbx serve` for real on PBX_API__PORT, with no Asterisk to talk to (its API answers all the same)."""
    port = int(os.environ["PBX_API__PORT"])
    with open(log, "w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pbx.cli", "serve"],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
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


def one_error_line(result: subprocess.CompletedProcess, code: int = 1) -> str:
    """The single `error: ...` line of a refused command (and that it is nothing more)."""
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]
