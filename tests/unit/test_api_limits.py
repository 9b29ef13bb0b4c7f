"""Request bodies against the real daemon: nothing is read before the bearer token is checked, and bodies are
capped per route (JSON 64 KiB, an IVR prompt 10 MiB) while they stream in, so a 200 MB body costs the
daemon no memory."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from tests.unit.daemon_process import memory_kib, reset_peak_memory, running_daemon

TOKEN = "t" * 32
MiB = 1024 * 1024


def body_of(total: int, chunk: int = MiB):
    """A body with no Content-Length: httpx sends a generator chunked, as it comes."""
    block = b"\0" * chunk
    for _ in range(total // chunk):
        yield block


@pytest.fixture
def daemon(tmp_path, monkeypatch):
    monkeypatch.setenv("PBX_API__TOKEN", TOKEN)
    with running_daemon(tmp_path / "serve.log") as (proc, port):
        api = httpx.Client(base_url=f"http://127.0.0.1:{port}/api", timeout=60)
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert api.put("/ivrs/main", json={"prompt": "sound:demo-instruct"}, headers=auth).status_code == 200
        yield proc, port, api
        api.close()


@pytest.mark.parametrize(
    ("token", "method", "path", "status", "error"),
    [
        (None, "POST", "/extensions", 401, "missing or invalid bearer token"),
        ("wrong" * 8, "PUT", "/ivrs/main/prompt", 401, "missing or invalid bearer token"),
        (TOKEN, "POST", "/extensions", 413, "request body too large (at most 64 KiB)"),
        (TOKEN, "PUT", "/ivrs/main/prompt", 413, "prompt too large (at most 10 MiB)"),
    ],
)
def test_a_streamed_200_mb_body_costs_the_daemon_no_memory(daemon, token, method, path, status, error):
    proc, _, api = daemon
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    api.get("/health", headers={"Authorization": f"Bearer {TOKEN}"})  # warm
    before = memory_kib(proc.pid)
    reset_peak_memory(proc.pid)
    started = time.monotonic()
    answer = api.request(method, path, content=body_of(200 * MiB), headers=headers)
    took = time.monotonic() - started
    grew = memory_kib(proc.pid, "VmHWM") - before
    assert grew < 30 * 1024, f"the daemon's memory grew by {grew >> 10} MiB for a refused body"
    assert (answer.status_code, answer.json()) == (status, {"error": error})
    assert took < 10, f"answered after {took:.1f} s"


def _raw(port: int, request: bytes) -> bytes:
    """Send `request` (headers only) and return what the daemon answers within 5 s."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(request)
        answer = b""
        try:
            while b"\r\n\r\n" not in answer:
                data = s.recv(4096)
                if not data:
                    break
                answer += data
        except TimeoutError:
            pass
        return answer


@pytest.mark.parametrize(
    ("path", "token", "status"),
    [
        ("/api/extensions", TOKEN, b"413"),
        ("/api/ivrs/main/prompt", TOKEN, b"413"),
        ("/api/extensions", None, b"401"),
    ],
)
def test_a_declared_oversize_body_is_refused_unread(daemon, path, token, status):
    _, port, _ = daemon
    method = b"PUT" if path.endswith("prompt") else b"POST"
    auth = f"Authorization: Bearer {token}\r\n".encode() if token else b""
    request = (
        method + b" " + path.encode() + b" HTTP/1.1\r\nHost: pbx\r\n" + auth
        + b"Content-Type: application/json\r\nContent-Length: 209715200\r\n\r\n"
    )  # fmt: skip
    answer = _raw(port, request)  # not one byte of the body is sent: the daemon must answer all the same
    assert answer.startswith(b"HTTP/1.1 " + status), answer[:200]
