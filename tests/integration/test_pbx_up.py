"""`pbx up` as a person runs it in a terminal: a real Asterisk, the daemon, the sample organisation; the
SIP passwords stay on screen until Enter (and in a private file), then the console opens."""

from __future__ import annotations

import fcntl
import os
import pty
import random
import re
import select
import stat
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from pbx.lab import free_sip_port, free_tcp_port

pytestmark = pytest.mark.integration

ALTERNATE_SCREEN = b"\x1b[?1049h"  # what a full-screen app (the console) switches to first


def read_until(fd: int, wanted: bytes, timeout: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while wanted not in seen and time.monotonic() < deadline:
        if select.select([fd], [], [], 0.2)[0]:
            try:
                seen += os.read(fd, 65536)
            except OSError:  # the process closed the terminal
                break
    return seen


@pytest.fixture
def env(tmp_path, asterisk_dist):
    rtp = random.randrange(20000, 59000, 1000)
    return os.environ | {
        "PBX_DATA_DIR": str(tmp_path / "data"),
        "PBX_ASTERISK__DIST_DIR": os.environ.get("PBX_ASTERISK__DIST_DIR")
        or str(Path("~/.local/share/pbx/asterisk/dist").expanduser()),
        "PBX_ASTERISK__SIP_PORT": str(free_sip_port()),
        "PBX_ASTERISK__HTTP_PORT": str(free_tcp_port()),
        "PBX_ASTERISK__RTP_START": str(rtp),
        "PBX_ASTERISK__RTP_END": str(rtp + 998),
        "PBX_API__PORT": str(free_tcp_port()),
        "TERM": "xterm-256color",
    }


def test_pbx_up_keeps_the_passwords_visible_until_enter(env):
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "pbx.cli", "up"],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=env,
        start_new_session=True,
    )
    try:
        shown = read_until(controller, b"Press Enter to open the console", 120)
        assert b"Press Enter to open the console" in shown, shown.decode(errors="replace")
        text = shown.decode(errors="replace")
        passwords = dict(re.findall(r"(\d{3}) +│ \w+ +│ ([0-9a-f]{16}) │", text))
        assert sorted(passwords) == ["101", "102", "103", "104", "105"]
        accounts = Path(env["PBX_DATA_DIR"]) / "sip-accounts.txt"
        assert f"kept in {accounts}" in text
        assert stat.S_IMODE(os.stat(accounts).st_mode) == 0o600
        for number, password in passwords.items():
            assert f"{number}\t" in accounts.read_text() and password in accounts.read_text()

        later = read_until(controller, ALTERNATE_SCREEN, 7)  # the probe saw the console cover them at 5 s
        assert ALTERNATE_SCREEN not in later and proc.poll() is None  # still waiting, passwords on screen

        os.write(controller, b"\r")
        assert ALTERNATE_SCREEN in read_until(controller, ALTERNATE_SCREEN, 30)  # now the console opens
        assert b"daemon connected" in read_until(controller, b"daemon connected", 30)
        os.write(controller, b"q")
        assert b"The PBX keeps running" in read_until(controller, b"The PBX keeps running", 30)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(controller)
        os.close(terminal)
        down = subprocess.run(
            [sys.executable, "-m", "pbx.cli", "down"],
            check=False,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert down.returncode == 0, down.stderr
