"""What the PBX keeps on disk is readable by its owner only: data dir 0700, database, log and secrets 0600,
including files left by an older version with looser modes. Real `pbx serve` processes."""

import os
import signal
import socket
import stat
import subprocess
import sys
import time

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_serve_keeps_the_data_dir_private(tmp_path, monkeypatch):
    data = tmp_path / "data"
    # as an older version left it: a world-readable data dir and database
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    (data / "pbx.sqlite3").touch(mode=0o644)
    (data / "pbx.sqlite3").chmod(0o644)
    port = _free_port()
    monkeypatch.setenv("PBX_API__PORT", str(port))
    monkeypatch.setenv("PBX_ASTERISK__ARI_URL", f"http://127.0.0.1:{_free_port()}/")  # no Asterisk: fine
    log = data / "log" / "pbx.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pbx.cli", "serve", "--logfile", str(log)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 401:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise AssertionError(f"the daemon did not come up: {proc.stderr.read1().decode()}")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    assert _mode(data) == 0o700
    created = [p for p in data.rglob("*") if p.is_file()]
    assert {p.name for p in created} >= {"pbx.sqlite3", "secrets.toml", "pbx.log"}
    loose = {str(p.relative_to(data)): oct(_mode(p)) for p in created if _mode(p) & 0o077}
    assert loose == {}
    assert all(_mode(d) == 0o700 for d in data.rglob("*") if d.is_dir())
    assert os.stat(data).st_uid == os.getuid()
