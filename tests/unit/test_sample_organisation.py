"""The sample organisation of `pbx seed` / `pbx up`: its SIP passwords stay where a person can find them
again (a file only they can read, kept current by the CLI), `pbx up` waits for Enter on a terminal
before the console covers them, and the sample menu's prompt is short."""

from __future__ import annotations

import os
import pty
import re
import select
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from asterisk.installer import find_system_asterisk, load
from tests.unit.cli_harness import free_port, run_pbx


@pytest.fixture
def data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("PBX_API__PORT", str(free_port()))
    return tmp_path / "data"


def passwords_shown(stdout: str) -> dict[str, str]:
    return dict(re.findall(r"│ (\d{3}) +│ \w+ +│ ([0-9a-f]{16}) │", stdout))


def test_seeded_passwords_are_kept_in_a_private_file(data_dir):
    seeded = run_pbx("seed")
    assert seeded.returncode == 0, seeded.stderr
    shown = passwords_shown(seeded.stdout)
    assert sorted(shown) == ["101", "102", "103", "104", "105"]
    accounts = data_dir / "sip-accounts.txt"
    assert f"kept in {accounts}" in seeded.stdout.replace("\n", "")
    assert stat.S_IMODE(os.stat(accounts).st_mode) == 0o600
    text = accounts.read_text()
    for number, password in shown.items():
        assert re.search(rf"^{number}\t\w+\t{password}$", text, re.M)

    added = run_pbx("ext", "add", "106", "--name", "Warehouse")
    assert f"106\tWarehouse\t{passwords_shown(added.stdout)['106']}" in accounts.read_text()
    assert run_pbx("ext", "rm", "106").returncode == 0
    assert "106\t" not in accounts.read_text()
    accounts.unlink()  # who deletes it does not get it back
    assert run_pbx("ext", "add", "107").returncode == 0 and not accounts.exists()


def pause(terminal: int | None) -> subprocess.Popen[str]:
    """pbx up's pause, in a process whose stdin and stdout are `terminal` (None: not a terminal)."""
    code = (
        "from rich.console import Console; from pbx.accounts import pause_before_console as p; "
        "print(p(Console()))"
    )
    stdin = subprocess.DEVNULL if terminal is None else terminal
    stdout = subprocess.PIPE if terminal is None else terminal
    return subprocess.Popen(
        [sys.executable, "-c", code], stdin=stdin, stdout=stdout, stderr=stdout, text=True
    )


def read_until(fd: int, text: bytes, timeout: float = 20) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while text not in seen and time.monotonic() < deadline:
        if select.select([fd], [], [], 0.2)[0]:
            seen += os.read(fd, 1024)
    return seen


def test_pbx_up_waits_for_enter_only_on_a_terminal():
    piped = pause(None)
    assert piped.communicate(timeout=20)[0].strip() == "True"  # a script is not held up

    controller, terminal = pty.openpty()
    try:
        waiting = pause(terminal)
        assert b"Press Enter to open the console" in read_until(controller, b"Press Enter")
        time.sleep(1)
        assert waiting.poll() is None  # still waiting: the passwords stay on screen
        os.write(controller, b"\n")
        assert b"True" in read_until(controller, b"True")
        assert waiting.wait(timeout=20) == 0
    finally:
        os.close(controller)
        os.close(terminal)


def sound_seconds(datadir: Path, name: str) -> float | None:
    """Length of an installed Asterisk core sound (English, GSM: 33 bytes per 20 ms), None if missing."""
    path = datadir / "sounds" / "en" / f"{name}.gsm"
    return path.stat().st_size / 1650 if path.is_file() else None


def test_the_sample_menu_prompt_is_a_short_sound_asterisk_has(data_dir):
    dist_dir = Path(os.environ.get("PBX_ASTERISK__DIST_DIR") or "~/.local/share/pbx/asterisk/dist")
    dist = load(dist_dir.expanduser()) or find_system_asterisk()
    if dist is None:
        pytest.skip("no Asterisk installed here (`make test` installs it)")
    assert run_pbx("seed").returncode == 0
    menu = next(line for line in run_pbx("ivr", "list").stdout.splitlines() if "│ main" in line)
    prompt = re.search(r"sound:([\w/-]+)", menu)
    assert prompt, menu
    seconds = sound_seconds(Path(dist.datadir), prompt[1])
    assert seconds is not None, f"{prompt[1]} is not a sound of the installed Asterisk"
    assert seconds <= 5  # a caller who presses nothing reaches the fallback in seconds, not minutes
