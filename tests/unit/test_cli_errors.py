"""How the command line fails, as a user meets it (real processes): usage errors show the usage and where
to get help, empty names and numbers are refused, and a port held by something that is not the daemon is
named with the way out. Never a traceback."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest

from core.api import create_app
from core.config import Settings
from core.events import EventBus
from core.services import Services
from core.services.auth import SYSTEM
from tests.unit.cli_harness import free_port, one_error_line, run_pbx, serving


@pytest.fixture
def pbx(monkeypatch):
    monkeypatch.setenv("PBX_API__PORT", str(free_port()))  # no daemon there: the CLI uses the database
    return run_pbx


@pytest.mark.parametrize(
    ("args", "command", "message"),
    [
        (("ext", "add"), "pbx ext add", "Missing argument"),
        (("ext", "rm", "101", "102"), "pbx ext rm", "unexpected extra argument"),
        (("nope",), "pbx", "No such command 'nope'"),
        (("ext", "list", "--bogus"), "pbx ext list", "No such option: --bogus"),
        (("calls", "--last", "-1"), "pbx calls", "Invalid value for '--last'"),
        (("calls", "--last", "abc"), "pbx calls", "Invalid value for '--last'"),
        (("calls", "--last", "99999999"), "pbx calls", "Invalid value for '--last'"),
        (
            ("forward", "set", "101", "busy", "ext:102", "--ring-seconds", "abc"),
            "pbx forward set",
            "Invalid value for '--ring-seconds'",
        ),
        (("dnd", "maybe", "201"), "pbx dnd", "No such command 'maybe'"),
    ],
)
def test_usage_errors_show_the_usage_and_where_to_get_help(pbx, args, command, message):
    result = pbx(*args)
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert result.returncode == 2
    usage, hint, error = result.stderr.strip().splitlines()
    assert usage.startswith(f"Usage: {command} [OPTIONS]")
    assert hint == f"Try '{command} --help' for help."
    assert error.startswith("error: ") and message in error


def test_a_command_group_alone_shows_its_help(pbx):
    result = pbx("ext")
    assert "Traceback" not in result.stderr + result.stdout
    assert result.returncode == 2 and "pbx ext [OPTIONS] COMMAND" in result.stderr + result.stdout


EMPTY = [
    ("ext", "rm", ""),
    ("ext", "rm", "   "),
    ("ext", "set", " ", "--name", "x"),
    ("blacklist", "add", ""),
    ("blacklist", "rm", " "),
    ("whitelist", "add", ""),
    ("whitelist", "rm", ""),
    ("trunk", "rm", ""),
    ("route", "set", "", "ext:101"),
    ("route", "rm", " "),
    ("queue", "rm", ""),
    ("queue", "show", " "),
    ("agent", "rm", "support", ""),
    ("group", "rm", ""),
    ("group", "members", "sales", "101", " "),
    ("ivr", "rm", ""),
    ("forward", "clear", "", "busy"),
    ("dnd", "on", " "),
    ("schedule", "override", "", "open"),
]


@pytest.mark.parametrize("args", EMPTY, ids=" ".join)
def test_empty_names_and_numbers_are_refused(pbx, args):
    line = one_error_line(pbx(*args))
    assert "is empty" in line or "has an empty value" in line


def test_an_empty_number_removes_nothing_through_the_daemon(monkeypatch, tmp_path):
    monkeypatch.setenv("PBX_API__PORT", str(free_port()))
    with serving(tmp_path / "serve.log"):
        assert run_pbx("ext", "add", "101").returncode == 0
        for args in (("ext", "rm", ""), ("ext", "rm", " "), ("blacklist", "rm", ""), ("trunk", "rm", "")):
            line = one_error_line(run_pbx(*args))
            assert "is empty" in line
        assert "101" in run_pbx("ext", "list").stdout


@pytest.fixture
async def api(db, tmp_path):
    services = Services.build(Settings(data_dir=tmp_path), EventBus())
    await services.auth.ensure_user("admin", "admin", "t" * 32)
    await services.extensions.add(SYSTEM, "101")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(services, EventBus(), None)),  # type: ignore[arg-type]
        base_url="http://pbx/api",
        headers={"Authorization": "Bearer " + "t" * 32},
    ) as client:
        yield client


@pytest.mark.parametrize(
    "path",
    [
        "extensions/%20",
        "trunks/%20",
        "routes/%20",
        "blacklist/%20",
        "whitelist/%20",
        "groups/%20",
        "queues/%20",
        "ivrs/%20",
        "queues/support/agents/%20",
    ],
)
async def test_the_api_refuses_a_blank_name_or_number(api, path):
    r = await api.delete(path)
    assert r.status_code == 422, r.text  # InvalidInput
    assert "is empty" in r.json()["error"]


# -- the API port held by something that is not the daemon ---------------------------------------
@contextlib.contextmanager
def squatter(answer: bytes | None) -> Iterator[int]:
    """A TCP server on a free port that answers every connection with `answer` (None: never answers)."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen()
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            if answer is None:
                held.append(conn)  # accept, read nothing, say nothing
                continue
            with conn:
                with contextlib.suppress(OSError):
                    conn.recv(65536)
                    conn.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        server.close()


@pytest.mark.parametrize(
    "answer",
    [
        b"SSH-2.0-OpenSSH_9.2\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\n\r\n<html></html>",
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found",
        None,
    ],
    ids=["not-http", "html", "plain-404", "silent"],
)
def test_the_api_port_held_by_something_else_is_named(monkeypatch, answer):
    with squatter(answer) as port:
        monkeypatch.setenv("PBX_API__PORT", str(port))
        for args in (("ext", "list"), ("blacklist", "add", "+15550000666"), ("queue", "show", "x")):
            line = one_error_line(run_pbx(*args))
            assert f"127.0.0.1:{port} is held by something that is not the PBX daemon" in line
            assert "PBX_API__PORT" in line


def test_a_daemon_that_lacks_a_route_is_told_to_restart(monkeypatch):
    not_found = (
        b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 22\r\n\r\n"
        b'{"detail":"Not Found"}'
    )
    with squatter(not_found) as port:
        monkeypatch.setenv("PBX_API__PORT", str(port))
        line = one_error_line(run_pbx("ext", "list"))
        assert f"the daemon on 127.0.0.1:{port} does not know GET /api/extensions" in line
        assert "restart it (pbx down, then pbx up)" in line


def test_calls_in_progress_need_the_daemon(pbx):
    line = one_error_line(pbx("record", "start", "some-call"))
    assert "the daemon is not running" in line and "pbx up" in line


def test_an_empty_token_in_the_config_file_means_the_generated_one(monkeypatch, tmp_path):
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "data" / "pbx.toml").write_text('[api]\ntoken = ""\n[asterisk]\nari_password = ""\n')
    monkeypatch.setenv("PBX_API__PORT", str(free_port()))
    assert run_pbx("ext", "add", "101").returncode == 0  # no daemon: straight to the database
    with serving(tmp_path / "serve.log"):
        added = run_pbx("ext", "add", "102")  # through the daemon, with the generated token
        assert added.returncode == 0, added.stderr
        assert "102" in run_pbx("ext", "list").stdout
