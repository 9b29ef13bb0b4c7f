"""Running `pbx` as a user does: real processes, and a real `pbx serve` for the commands that use it."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from tests.unit.daemon_process import free_port as free_port  # the CLI tests take it from here
from tests.unit.daemon_process import serve_process

Run = Callable[..., subprocess.CompletedProcess]


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
    with serve_process(log) as proc:
        yield proc


def one_error_line(result: subprocess.CompletedProcess, code: int = 1) -> str:
    """The single `error: ...` line of a refused command (and that it is nothing more)."""
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]
