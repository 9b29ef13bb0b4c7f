"""The command line as a user meets it: real processes, one clear line on bad input, never a traceback."""

import socket
import subprocess
import sys

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def pbx(monkeypatch):
    monkeypatch.setenv("PBX_API__PORT", str(free_port()))  # no daemon there: the CLI uses the database

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "pbx.cli", *args], capture_output=True, text=True, timeout=60, check=False
        )

    return run


def test_extension_lifecycle_without_a_daemon(pbx):
    added = pbx("ext", "add", "101", "--name", "Reception", "--password", "reception-pw")
    assert added.returncode == 0, added.stderr
    assert "reception-pw" in added.stdout and "shown this once" in added.stdout
    listed = pbx("ext", "list")
    assert "101" in listed.stdout and "Reception" in listed.stdout
    assert "reception-pw" not in listed.stdout  # the password is shown once, never again
    again = pbx("ext", "add", "101")
    assert again.returncode == 1 and "internal number 101 already exists" in again.stderr
    assert pbx("ext", "rm", "101").returncode == 0
    assert "101" not in pbx("ext", "list").stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ext", "add", "1x2"), "must be 2 to 4 digits"),
        (("ext", "add", "12345"), "must be 2 to 4 digits"),
        (("ext", "add", "150", "--password", "short"), "SIP password must be 8 to 64"),
        (("ext", "rm", "555"), "internal number 555 does not exist"),
    ],
)
def test_bad_input_gets_one_clear_line(pbx, args, message):
    result = pbx(*args)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_corrupt_config_file_is_named(pbx, tmp_path, monkeypatch):
    cfg = tmp_path / "broken.toml"
    cfg.write_text("[asterisk\nsip_port = ")
    monkeypatch.setenv("PBX_CONFIG", str(cfg))
    result = pbx("ext", "list")
    assert result.returncode == 1 and "broken.toml is not valid TOML" in result.stderr
    assert "Traceback" not in result.stderr


def test_external_asterisk_is_not_managed(pbx, monkeypatch):
    monkeypatch.setenv("PBX_ASTERISK__MODE", "external")
    result = pbx("asterisk", "start")
    assert result.returncode == 1 and "asterisk.mode is 'external'" in result.stderr


def test_calls_on_an_empty_pbx(pbx):
    result = pbx("calls", "--last", "5")
    assert result.returncode == 0 and "disposition" in result.stdout


def test_asterisk_commands_before_install_say_what_to_do(pbx, tmp_path, monkeypatch):
    monkeypatch.setenv("PBX_ASTERISK__DIST_DIR", str(tmp_path / "no-asterisk-here"))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # and no system Asterisk on PATH
    result = pbx("asterisk", "status")
    assert result.returncode == 1 and "run `pbx asterisk install`" in result.stderr
    assert not (tmp_path / "no-asterisk-here").exists()  # status installs nothing
    assert pbx("down").returncode == 0


def test_forwarding_and_dnd_from_the_command_line(pbx):
    for number in ("101", "102"):
        assert pbx("ext", "add", number).returncode == 0
    result = pbx("forward", "set", "101", "no_answer", "ext:102", "--ring-seconds", "15")
    assert result.returncode == 0, result.stderr
    assert "101: no_answer after 15 s → ext:102" in result.stdout
    listed = pbx("forward", "list")
    assert "no_answer" in listed.stdout and "ext:102" in listed.stdout and "15" in listed.stdout
    loop = pbx("forward", "set", "102", "always", "ext:101")
    assert loop.returncode == 0  # 101 forwards only on no answer: no unconditional loop
    refused = pbx("forward", "set", "101", "always", "ext:102")
    assert refused.returncode == 1 and "forwarding loop: 101 → 102 → 101" in refused.stderr
    bad = pbx("forward", "set", "101", "busy", "external:555")
    assert bad.returncode == 1 and "international form" in bad.stderr
    assert pbx("forward", "clear", "101", "no_answer").returncode == 0
    assert "ext:102" not in pbx("forward", "list", "101").stdout
    assert pbx("dnd", "on", "102").returncode == 0
    assert "on" in next(line for line in pbx("ext", "list").stdout.splitlines() if "102" in line)


def test_caller_lists_from_the_command_line(pbx):
    assert pbx("blacklist", "add", "+15550000666", "--note", "robocaller").returncode == 0
    assert pbx("blacklist", "add", "+1900", "--prefix").returncode == 0
    listed = pbx("blacklist", "list").stdout
    assert "+15550000666" in listed and "+1900…" in listed and "robocaller" in listed
    bad = pbx("blacklist", "add", "0666")
    assert bad.returncode == 1 and "international form" in bad.stderr
    assert pbx("blacklist", "anonymous", "busy").returncode == 0
    assert pbx("ext", "add", "103").returncode == 0
    assert pbx("whitelist", "add", "+15557654321", "--route", "ext:103").returncode == 0
    assert "ext:103" in pbx("whitelist", "list").stdout
    assert pbx("blacklist", "rm", "+1900").returncode == 0
    assert "+1900" not in pbx("blacklist", "list").stdout


def test_groups_from_the_command_line(pbx):
    for number in ("102", "103"):
        assert pbx("ext", "add", number).returncode == 0
    made = pbx("group", "set", "sales", "--strategy", "hunt", "--member-timeout", "10")
    assert made.returncode == 0, made.stderr
    assert pbx("group", "members", "sales", "102", "103").returncode == 0
    listed = pbx("group", "list").stdout
    assert "sales" in listed and "hunt" in listed and "102 103" in listed
    bad = pbx("group", "set", "sales", "--strategy", "loudest")
    assert bad.returncode == 1 and "unknown ring strategy" in bad.stderr
    assert pbx("forward", "set", "102", "busy", "group:sales").returncode == 0
    in_use = pbx("group", "rm", "sales")
    assert in_use.returncode == 1 and "still used by the busy forwarding of 102" in in_use.stderr
    assert pbx("forward", "clear", "102", "busy").returncode == 0
    assert pbx("group", "rm", "sales").returncode == 0


def test_voicemail_and_recordings_lists(pbx):
    assert pbx("ext", "add", "102").returncode == 0
    assert pbx("forward", "set", "102", "busy", "voicemail:102").returncode == 0
    assert "mailbox" in pbx("voicemail", "102").stdout
    assert pbx("record", "policy", "ext:102", "always").returncode == 0
    bad = pbx("record", "policy", "ext:102", "sometimes")
    assert bad.returncode == 1 and "always, never or on_demand" in bad.stderr
    assert "duration" in pbx("record", "list").stdout


def test_schedules_from_the_command_line(pbx):
    for number in ("101", "102"):
        assert pbx("ext", "add", number).returncode == 0
    made = pbx(
        "schedule", "set", "office", "--open", "ext:101", "--closed", "voicemail:102", "--timezone", "UTC"
    )
    assert made.returncode == 0, made.stderr
    assert pbx("schedule", "hours", "office", "mon-fri 09:00-17:00", "sat 10:00-14:00").returncode == 0
    assert pbx("schedule", "holiday", "office", "2026-12-25", "--name", "Christmas").returncode == 0
    assert pbx("schedule", "override", "office", "closed").returncode == 0
    listed = pbx("schedule", "list").stdout
    assert "office" in listed and "closed (forced closed)" in listed and "2026-12-25" in listed
    bad = pbx("schedule", "hours", "office", "weekdays 9-5")
    assert bad.returncode == 1 and "use mon..sun" in bad.stderr


def test_seed_creates_the_sample_organisation_once(pbx):
    seeded = pbx("seed")
    assert seeded.returncode == 0, seeded.stderr
    assert all(n in seeded.stdout for n in ("101", "105")) and "sip-accounts.txt" in seeded.stdout
    menus = pbx("ivr", "list").stdout
    assert "main" in menus and "500" in menus and "queue:support" in menus
    queues = pbx("queue", "show", "support").stdout
    assert "600" in queues and "103" in queues and "104" in queues
    again = pbx("seed")
    assert again.returncode == 0 and "already seeded" in again.stdout


def test_security_commands_without_a_daemon(pbx):
    listed = pbx("security", "bans")
    assert listed.returncode == 0 and "banned until" in listed.stdout
    unknown = pbx("security", "unban", "203.0.113.7")
    assert unknown.returncode == 1 and "error: 203.0.113.7 is not banned" in unknown.stderr
    bad = pbx("security", "unban", "office")
    assert bad.returncode == 1 and "'office' is not an IP address" in bad.stderr
    assert "Traceback" not in unknown.stderr + bad.stderr
