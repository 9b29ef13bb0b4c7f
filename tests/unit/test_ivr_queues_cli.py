"""IVR menus, queues and agents from the command line, as a user meets it: real processes, with and without a
running daemon, one clear line on bad input and never a traceback."""

import os
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from tests.unit.daemon_process import free_port, serve_process


def write_wav(path: Path, rate: int = 8000) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\0\0" * (rate // 5))
    return path


@pytest.fixture
def pbx(monkeypatch):
    monkeypatch.setenv("PBX_API__PORT", str(free_port()))  # no daemon there: the CLI uses the database

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "pbx.cli", *args], capture_output=True, text=True, timeout=60, check=False
        )

    return run


def row(output: str, first: str) -> str:
    """The table row whose first cell is `first`."""
    return next(line for line in output.splitlines() if line.strip("│ ").startswith(first + " "))


def test_ivr_menu_round_trip_without_a_daemon(pbx, tmp_path):
    for number in ("101", "102"):
        assert pbx("ext", "add", number).returncode == 0
    made = pbx("ivr", "add", "main", "--prompt", "sound:demo-instruct", "--number", "500", "--timeout", "4")
    assert made.returncode == 0, made.stderr
    assert "IVR main: prompt sound:demo-instruct, internal number 500" in made.stdout
    assert pbx("ivr", "add", "sales", "--prompt", "sound:demo-congrats").returncode == 0
    assert pbx("ivr", "option", "main", "1", "ext:102").returncode == 0
    hashed = pbx("ivr", "option", "main", "#", "ivr:sales")
    assert hashed.returncode == 0 and "key # → ivr:sales" in hashed.stdout
    changed = pbx("ivr", "add", "main", "--direct-dial", "--repeat-key", "0", "--fallback", "ext:101")
    assert changed.returncode == 0, changed.stderr
    main = row(pbx("ivr", "list").stdout, "main")
    assert "500" in main and "sound:demo-instruct" in main  # options not given were kept
    assert "#→ivr:sales, 1→ext:102" in main and "yes" in main and "4 s" in main and "ext:101" in main
    prompt = pbx("ivr", "prompt", "main", str(write_wav(tmp_path / "menu.wav")))
    assert prompt.returncode == 0, prompt.stderr
    assert (tmp_path / "data" / "sounds" / "ivr-main.wav").exists()
    assert "sounds/ivr-main" in row(pbx("ivr", "list").stdout, "main")
    removed = pbx("ivr", "option", "main", "1", "--remove")
    assert removed.returncode == 0 and "key 1 removed" in removed.stdout
    assert "1→ext:102" not in pbx("ivr", "list").stdout
    assert pbx("ivr", "rm", "main").returncode == 0
    assert "main" not in pbx("ivr", "list").stdout


def test_queue_and_agents_round_trip_without_a_daemon(pbx):
    for number in ("101", "102"):
        assert pbx("ext", "add", number).returncode == 0
    made = pbx(
        "queue", "add", "support", "--number", "600", "--strategy", "longest_idle", "--overflow", "ext:101"
    )
    assert made.returncode == 0, made.stderr
    assert "queue support: longest_idle, internal number 600" in made.stdout
    added = pbx("agent", "add", "support", "101", "--timeout", "20", "--delay-busy", "5")
    assert added.returncode == 0 and "agent 101 added, logged in" in added.stdout
    assert pbx("agent", "add", "support", "102").returncode == 0
    paused = pbx("agent", "pause", "support", "102")
    assert paused.returncode == 0 and "agent 102 logged in, paused" in paused.stdout
    assert "logged out" in pbx("agent", "logout", "support", "101").stdout
    assert "101 (out), 102 (paused)" in row(pbx("queue", "list").stdout, "support")
    assert pbx("queue", "add", "support", "--max-wait", "120", "--announce-every", "0").returncode == 0
    shown = pbx("queue", "show", "support")
    assert shown.returncode == 0, shown.stderr
    assert "longest_idle" in shown.stdout and "120 s" in shown.stdout and "never" in shown.stdout
    assert "20 s" in row(shown.stdout, "101") and "5 / 10 / 30 s" in row(shown.stdout, "101")
    assert "the daemon is not running" in shown.stdout  # no live state is made up
    assert pbx("agent", "login", "support", "101").returncode == 0
    assert pbx("agent", "resume", "support", "102").returncode == 0
    assert "101, 102" in row(pbx("queue", "list").stdout, "support")
    recorded = pbx("record", "policy", "queue:support", "always")
    assert recorded.returncode == 0 and "queue:support: recording always" in recorded.stdout
    assert "always" in pbx("queue", "show", "support").stdout
    assert pbx("agent", "rm", "support", "102").returncode == 0
    assert pbx("queue", "rm", "support").returncode == 0
    assert "support" not in pbx("queue", "list").stdout


@pytest.fixture(scope="module")
def configured(tmp_path_factory):
    """Internal number 101, IVR main and queue support, made once (bad input changes nothing)."""
    env = os.environ | {
        "PBX_DATA_DIR": str(tmp_path_factory.mktemp("configured")),
        "PBX_API__PORT": str(free_port()),
    }

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "pbx.cli", *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env=env,
        )

    assert run("ext", "add", "101").returncode == 0
    assert run("ivr", "add", "main", "--prompt", "sound:demo-instruct").returncode == 0
    assert run("queue", "add", "support").returncode == 0
    return run


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ivr", "add", "new"), "a new IVR menu needs a prompt, e.g. --prompt sound:demo-instruct"),
        (("ivr", "add", "Bad Name!", "--prompt", "sound:x"), "IVR name must be letters, digits"),
        (("ivr", "option", "main", "x", "ext:101"), "IVR key 'x' must be one of 0-9, * or #"),
        (("ivr", "option", "main", "2"), "give either a DESTINATION or --remove"),
        (("ivr", "option", "main", "2", "ext:101", "--remove"), "give either a DESTINATION or --remove"),
        (("ivr", "prompt", "main", "/no/such/file.wav"), "no file /no/such/file.wav"),
        (("ivr", "rm", "nope"), "IVR menu nope does not exist"),
        (("queue", "add", "support", "--strategy", "loudest"), "unknown queue strategy 'loudest'"),
        (("queue", "show", "nope"), "queue nope does not exist"),
        (("agent", "add", "support", "5"), "internal number '5' must be 2 to 4 digits"),
        (("agent", "add", "support", "+15551234567"), "no trunk can reach the remote agent +15551234567"),
        (("agent", "pause", "support", "102"), "102 is not an agent of queue support"),
    ],
)
def test_bad_input_gets_one_clear_line(configured, args, message):
    result = configured(*args)
    assert result.returncode == 1, result.stdout
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr + result.stdout


def test_a_prompt_in_the_wrong_format_says_how_to_convert_it(pbx, tmp_path):
    assert pbx("ivr", "add", "main", "--prompt", "sound:demo-instruct").returncode == 0
    song = write_wav(tmp_path / "song.wav", rate=44100)
    result = pbx("ivr", "prompt", "main", str(song))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"{song} is 44100 Hz" in result.stderr and f"sox {song} -r 8000 -b 16 -c 1" in result.stderr


@pytest.mark.parametrize(
    ("group", "commands"),
    [
        ("ivr", ["add", "option", "prompt", "list", "rm"]),
        ("queue", ["add", "list", "show", "rm"]),
        ("agent", ["add", "rm", "login", "logout", "pause", "resume"]),
    ],
)
def test_every_command_explains_itself(group, commands):
    import typer
    from typer.testing import CliRunner

    from pbx.cli import app

    runner = CliRunner()
    listed = typer.main.get_command(app).commands[group].commands  # type: ignore[attr-defined]
    assert sorted(listed) == sorted(commands)
    for command in commands:
        helped = runner.invoke(app, [group, command, "--help"])
        assert helped.exit_code == 0 and "Usage:" in helped.output
        assert listed[command].help and listed[command].help.split()[0] in helped.output  # its docstring
    assert "queue:support" in runner.invoke(app, ["record", "policy", "--help"]).output


@pytest.fixture
def daemon(monkeypatch, tmp_path):
    """`pbx serve` for real, with no Asterisk to talk to (its API answers all the same)."""
    port = free_port()
    monkeypatch.setenv("PBX_API__PORT", str(port))
    monkeypatch.setenv("PBX_ASTERISK__HTTP_PORT", str(free_port()))  # nothing listens there
    with serve_process(tmp_path / "serve.log") as proc:
        yield proc


def test_through_the_running_daemon(daemon, tmp_path):
    def pbx(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "pbx.cli", *args], capture_output=True, text=True, timeout=60, check=False
        )

    for number in ("101", "102"):
        assert pbx("ext", "add", number).returncode == 0
    assert pbx("ivr", "add", "main", "--prompt", "sound:demo-instruct").returncode == 0
    hashed = pbx("ivr", "option", "main", "#", "ext:102")  # a key that must not end the URL
    assert hashed.returncode == 0, hashed.stderr
    assert "#→ext:102" in row(pbx("ivr", "list").stdout, "main")
    sent = pbx("ivr", "prompt", "main", str(write_wav(tmp_path / "menu.wav")))  # the bytes go over the API
    assert sent.returncode == 0, sent.stderr
    assert (tmp_path / "data" / "sounds" / "ivr-main.wav").read_bytes() == (
        tmp_path / "menu.wav"
    ).read_bytes()
    song = write_wav(tmp_path / "song.wav", rate=44100)
    refused = pbx("ivr", "prompt", "main", str(song))
    assert refused.returncode == 1 and f"error: {song} is 44100 Hz" in refused.stderr  # the user's file
    assert pbx("queue", "add", "support").returncode == 0
    assert pbx("agent", "add", "support", "101").returncode == 0
    assert pbx("agent", "add", "support", "102").returncode == 0
    assert pbx("agent", "pause", "support", "102").returncode == 0
    shown = pbx("queue", "show", "support")
    assert shown.returncode == 0, shown.stderr
    assert "unregistered" in row(shown.stdout, "101")  # live: its phone is not registered
    assert "paused" in row(shown.stdout, "102") and "nobody waiting" in shown.stdout
    bad = pbx("agent", "login", "support", "103")
    assert bad.returncode == 1 and bad.stderr.strip() == "error: 103 is not an agent of queue support"
