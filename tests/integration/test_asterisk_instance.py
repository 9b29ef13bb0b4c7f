"""A real Asterisk: install (cached after the first run), start, inspect, stop."""

import os
import socket
import time
from pathlib import Path

import pytest

from asterisk import AsteriskError, AsteriskInstance, install, installer, load
from asterisk.installer import version_tuple

pytestmark = pytest.mark.integration

DIST_DIR = Path(os.environ.get("PBX_ASTERISK__DIST_DIR", "~/.local/share/pbx/asterisk/dist")).expanduser()


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def dist():
    return install(DIST_DIR, progress=False)


@pytest.fixture
def instance(dist, tmp_path):
    rtp = 30000 + free_port(socket.SOCK_DGRAM) % 30000 // 100 * 100  # RTP clashes are harmless anyway
    inst = AsteriskInstance(
        dist,
        tmp_path / "ast",
        sip_port=free_port(socket.SOCK_DGRAM),
        http_port=free_port(socket.SOCK_STREAM),
        rtp_start=rtp,
        rtp_end=rtp + 99,
        ari_password="test-secret",
        name="itest",
    )
    yield inst
    inst.stop()


def test_install_is_cached(dist):
    assert version_tuple(dist.version) >= (20,)
    if dist.kind == "managed":
        assert load(DIST_DIR) == dist
        assert install(DIST_DIR, progress=False) == dist


def test_unreachable_mirror(tmp_path, monkeypatch):
    monkeypatch.setattr(installer, "find_system_asterisk", lambda: None)
    with pytest.raises(AsteriskError) as e:
        install(tmp_path / "dist", progress=False, mirror="http://127.0.0.1:9/debian")
    msg = str(e.value)
    assert "Failed to fetch" in msg and "PBX_ASTERISK__MODE=external" in msg and "\n" not in msg
    assert load(tmp_path / "dist") is None and not (tmp_path / "dist/root").exists()


def test_instance_lifecycle(instance):
    instance.start()
    pid = instance.pid
    assert pid and instance.is_running() and instance.pid_path.read_text().strip() == str(pid)
    assert instance.boot_seconds is not None and instance.boot_seconds < 30

    st = instance.status()
    assert st["running"] and st["ari_ok"] and st["pid"] == pid
    assert version_tuple(st["version"]) >= (20,) and isinstance(st["uptime"], int)
    assert (st["sip_port"], st["http_port"]) == (instance.sip_port, instance.http_port)

    assert f"127.0.0.1:{instance.sip_port}" in instance.cli("pjsip show transports")
    assert "Stasis(pbx,internal" in instance.cli("dialplan show from-internal")

    instance.start()  # already running: no-op
    assert instance.pid == pid

    # a PBX configured with the wrong password sees the same process but no ARI
    wrong = AsteriskInstance(
        instance.dist,
        instance.state_dir,
        sip_port=instance.sip_port,
        http_port=instance.http_port,
        ari_password="wrong",
        name="itest",
    )
    st = wrong.status()
    assert st["running"] and st["pid"] == pid and st["ari_ok"] is False

    # a second instance on the same ports is refused before it starts anything
    other = AsteriskInstance(
        instance.dist,
        instance.state_dir.parent / "other",
        sip_port=instance.sip_port,
        http_port=free_port(socket.SOCK_STREAM),
        ari_password="x",
    )
    with pytest.raises(AsteriskError, match="PBX_ASTERISK__SIP_PORT"):
        other.start()

    instance.stop()
    assert not instance.is_running() and instance.pid is None and not instance.pid_path.exists()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    st = instance.status()
    assert not st["running"] and not st["ari_ok"]
    instance.stop()  # stopped: no-op
    with pytest.raises(AsteriskError, match="not running"):
        instance.cli("core show uptime")


def test_restart_after_crash(instance):
    instance.start()
    os.kill(instance.pid, 9)
    deadline = time.monotonic() + 5
    while instance.is_running() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not instance.is_running()
    instance.start()  # stale pid file and control socket are no obstacle
    assert instance.status()["ari_ok"]
