"""Instance configuration, port checks and installer refusals: no real Asterisk needed."""

import re
import shutil
import socket
import stat
from pathlib import Path

import pytest

from asterisk import AsteriskDist, AsteriskError, AsteriskInstance, install, installer, load


def fake_dist(tmp_path: Path, argv: list[str] | None = None) -> AsteriskDist:
    etc = tmp_path / "dist-etc"
    etc.mkdir(exist_ok=True)
    (etc / "indications.conf").write_text("[general]\ncountry=us\n")
    return AsteriskDist(
        argv=argv or ["/opt/ast/usr/sbin/asterisk"],
        moddir="/opt/ast/modules",
        datadir="/opt/ast/share",
        version="22.10.1",
        kind="managed",
        distro_etc=str(etc),
    )


def conf(inst: AsteriskInstance, name: str) -> str:
    return (inst.etc_dir / name).read_text()


def test_render_ports_binds_credentials(tmp_path):
    inst = AsteriskInstance(
        fake_dist(tmp_path),
        tmp_path / "st",
        bind="127.0.0.5",
        sip_port=5361,
        http_port=8123,
        rtp_start=20000,
        rtp_end=20100,
        ari_user="bob",
        ari_password="pw;1@APP@",
        app="myapp",
        name="test",
    )
    inst.render()
    assert re.search(r"^bind = 127\.0\.0\.5:5361$", conf(inst, "pjsip.conf"), re.MULTILINE)
    assert "endpoint_identifier_order = ip,username,anonymous" in conf(inst, "pjsip.conf")
    assert "type = endpoint" not in conf(inst, "pjsip.conf")  # phones come over ARI, never from the file
    http = conf(inst, "http.conf")
    assert "bindaddr = 127.0.0.5" in http and "bindport = 8123" in http
    assert "rtpstart = 20000" in conf(inst, "rtp.conf") and "rtpend = 20100" in conf(inst, "rtp.conf")
    ari = conf(inst, "ari.conf")
    assert "[bob]" in ari and r"password = pw\;1@APP@" in ari and "password_format = plain" in ari
    assert stat.S_IMODE((inst.etc_dir / "ari.conf").stat().st_mode) == 0o600
    ext = conf(inst, "extensions.conf")
    assert "Stasis(myapp,internal,${EXTEN})" in ext and "Stasis(myapp,inbound,${EXTEN})" in ext
    assert "[bench-direct]" in ext and "Dial(PJSIP/${EXTEN},20)" in ext
    ast = conf(inst, "asterisk.conf")
    assert f"astetcdir => {inst.state_dir}/etc" in ast and "(!)" not in ast
    assert "astmoddir => /opt/ast/modules" in ast and f"astrundir => {inst.state_dir}/run" in ast
    assert "memory" in conf(inst, "sorcery.conf")
    assert conf(inst, "indications.conf").startswith("[general]")
    assert inst.ari_url == "http://127.0.0.5:8123/"
    for sub in ("lib", "spool/recording", "spool/tmp", "log", "run", "cache"):
        assert (inst.state_dir / sub).is_dir()


def test_no_placeholders_left(tmp_path):
    inst = AsteriskInstance(fake_dist(tmp_path), tmp_path / "st", ari_password="x")
    inst.render()
    files = list(inst.etc_dir.glob("*.conf"))
    assert len(files) > 15 and not list(inst.etc_dir.glob(".*tmp*"))
    for f in files:
        text = f.read_text()
        assert not re.search(r"@[A-Z_]+@", text), f.name
        dollars = re.findall(r"\$\{?([A-Za-z_]+)", text)
        assert set(dollars) <= {"CALLERID", "EXTEN"}, (f.name, dollars)


def test_ipv6_bind(tmp_path):
    inst = AsteriskInstance(fake_dist(tmp_path), tmp_path / "st", bind="::1", sip_port=5070, ari_password="x")
    inst.render()
    assert "bind = [::1]:5070" in conf(inst, "pjsip.conf")
    assert inst.ari_url == "http://[::1]:8088/"


def test_long_state_dir_puts_run_dir_under_tmp(tmp_path):
    long_dir = tmp_path / ("x" * 60) / ("y" * 60)
    inst = AsteriskInstance(fake_dist(tmp_path), long_dir, ari_password="x")
    inst.render()
    run = inst.run_dir
    assert re.fullmatch(r"/tmp/pbx-ast-[0-9a-f]{8}", str(run)) and run.is_dir()
    assert f"astrundir => {run}" in conf(inst, "asterisk.conf")
    assert AsteriskInstance(fake_dist(tmp_path), long_dir, ari_password="y").run_dir == run  # stable
    short = AsteriskInstance(fake_dist(tmp_path), tmp_path / "s", ari_password="x")
    assert short.run_dir == tmp_path / "s" / "run"
    run.rmdir()


def test_bad_parameters_refused(tmp_path):
    with pytest.raises(AsteriskError, match="port"):
        AsteriskInstance(fake_dist(tmp_path), tmp_path, sip_port=70000, ari_password="x")
    with pytest.raises(AsteriskError, match="ARI user"):
        AsteriskInstance(fake_dist(tmp_path), tmp_path, ari_user="a]b", ari_password="x")
    with pytest.raises(AsteriskError, match="password"):
        AsteriskInstance(fake_dist(tmp_path), tmp_path, ari_password="a\nb")


@pytest.mark.parametrize(
    "kind,setting",
    [(socket.SOCK_DGRAM, "PBX_ASTERISK__SIP_PORT"), (socket.SOCK_STREAM, "PBX_ASTERISK__HTTP_PORT")],
)
def test_port_in_use(tmp_path, kind, setting):
    with socket.socket(socket.AF_INET, kind) as busy:
        busy.bind(("127.0.0.1", 0))
        if kind == socket.SOCK_STREAM:
            busy.listen()
        port = busy.getsockname()[1]
        ports = {"sip_port": port} if kind == socket.SOCK_DGRAM else {"http_port": port}
        inst = AsteriskInstance(fake_dist(tmp_path), tmp_path / "st", ari_password="x", **ports)
        with pytest.raises(AsteriskError) as e:
            inst.start()
    msg = str(e.value)
    assert setting in msg and str(port) in msg and "\n" not in msg
    assert not inst.is_running()


def test_start_reports_early_death(tmp_path):
    # stands in for an asterisk that dies at once: "sh -c SCRIPT x -C conf -f -n -g"
    dist = fake_dist(tmp_path, ["/bin/sh", "-c", "echo first line; echo config is broken >&2; exit 3", "x"])
    inst = AsteriskInstance(
        dist,
        tmp_path / "st",
        sip_port=free_port(socket.SOCK_DGRAM),
        http_port=free_port(socket.SOCK_STREAM),
        ari_password="x",
    )
    with pytest.raises(AsteriskError, match=r"exit code 3.*config is broken") as e:
        inst.start(timeout=5)
    assert "\n" not in str(e.value)
    assert not inst.pid_path.exists() and not inst.is_running()
    inst.stop()  # stopping a stopped instance is a no-op
    with pytest.raises(AsteriskError, match="not running"):
        inst.cli("core show uptime")


def test_status_when_stopped(tmp_path):
    inst = AsteriskInstance(fake_dist(tmp_path), tmp_path / "st", ari_password="x")
    inst.pid_path.parent.mkdir(parents=True)
    inst.pid_path.write_text("1\n")  # a live pid that is not this instance's asterisk
    st = inst.status()
    assert st["running"] is False and st["pid"] is None and st["ari_ok"] is False and st["uptime"] is None


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_installer_refuses_without_apt(tmp_path, monkeypatch):
    real_which = shutil.which
    monkeypatch.setattr(
        shutil,
        "which",
        lambda name, *a, **k: None if name in ("apt-get", "dpkg", "asterisk") else real_which(name),
    )
    with pytest.raises(AsteriskError) as e:
        install(tmp_path / "dist", progress=False)
    msg = str(e.value)
    assert "apt-get" in msg and "PBX_ASTERISK__MODE=external" in msg and "PBX_ASTERISK__ARI_URL" in msg
    assert "PBX_ASTERISK__ARI_USER" in msg and "PBX_ASTERISK__ARI_PASSWORD" in msg and "\n" not in msg


def test_installer_refuses_without_keyring(tmp_path, monkeypatch):
    real_which = shutil.which
    monkeypatch.setattr(
        shutil, "which", lambda name, *a, **k: None if name == "asterisk" else real_which(name)
    )
    monkeypatch.setattr(installer, "KEYRING", str(tmp_path / "missing.gpg"))
    if not real_which("apt-get"):
        pytest.skip("needs apt-get")
    with pytest.raises(AsteriskError, match=r"debian-archive-keyring.*PBX_ASTERISK__MODE=external"):
        install(tmp_path / "dist", progress=False)


def test_system_asterisk_is_preferred(tmp_path, monkeypatch):
    fake = tmp_path / "bin" / "asterisk"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'Asterisk 20.5.2'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake.parent))
    dist = install(tmp_path / "dist", progress=False)
    assert dist.kind == "system" and dist.argv == [str(fake)] and dist.version == "20.5.2"
    fake.write_text("#!/bin/sh\necho 'Asterisk 18.1.0'\n")  # too old: not used
    assert installer.find_system_asterisk() is None


def test_load_empty_dist_dir(tmp_path):
    assert load(tmp_path) is None
    assert load(tmp_path / "does-not-exist") is None
    (tmp_path / "installed.json").write_text('{"version": "22.1.0"}')  # marker without a tree
    assert load(tmp_path) is None


def test_version_tuple():
    assert installer.version_tuple("22.10.1+dfsg+~cs6.17-1") == (22, 10, 1)
    assert installer.version_tuple("certified/20.7-cert1") == (20, 7)
    assert installer.version_tuple("GIT-master") == ()


def test_host_mirror_is_a_url():
    assert re.match(r"https?://", installer.host_mirror())


def test_security_events_and_bans_are_configured(tmp_path):
    inst = AsteriskInstance(fake_dist(tmp_path), tmp_path / "st", ari_password="x")
    inst.render()
    # the daemon follows this file; JSON, because a plain line can be forged through a SIP user name
    assert re.search(r"^security\.log => \[json\]security$", conf(inst, "logger.conf"), re.MULTILINE)
    # res_pjsip_acl reads the [acl] section: bans are pushed into memory at run time
    sorcery = conf(inst, "sorcery.conf")
    assert re.search(r"^\[acl\]\nacl = config,pjsip\.conf,criteria=type=acl\nacl = memory$", sorcery, re.M)
    assert "res_pjsip_acl" not in conf(inst, "modules.conf")  # autoloaded, never noloaded
