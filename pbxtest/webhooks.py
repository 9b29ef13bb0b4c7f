"""A real HTTP receiver of webhooks for the tests: it records what arrives, checks each signature with the
Standard Webhooks reference library, and answers what the test says (200, 500, 429 with Retry-After, 410…).
It can be stopped and started again on the same port (a receiver that is down, then back)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from standardwebhooks import Webhook


@dataclass
class Received:
    """One request as it arrived."""

    headers: dict[str, str]
    body: bytes
    verified: bool
    status: int  # what we answered
    at: float = field(default_factory=time.monotonic)
    wall: float = field(default_factory=time.time)  # wall-clock arrival (latency from an event's `at`)

    @property
    def data(self) -> dict[str, Any]:
        if self.headers.get("content-type", "").startswith("application/json"):
            return json.loads(self.body)
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))

    @property
    def id(self) -> str:
        return self.headers.get("webhook-id", "")


class Receiver:
    """Listens on 127.0.0.1:`port` (0: a free one) while started; `answer` is the status it gives."""

    def __init__(self, secret: str = "", port: int = 0) -> None:
        self.secret = secret
        self.port = port
        self.answer = 200
        self.headers: dict[str, str] = {}  # added to each answer (e.g. Retry-After)
        self.delay = 0.0  # seconds each answer takes (a slow receiver: deliveries stay in flight)
        self.received: list[Received] = []
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                size = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(size)
                headers = {k.lower(): v for k, v in self.headers.items()}
                verified = False
                if receiver.secret:
                    try:
                        Webhook(receiver.secret).verify(body, headers, json_parse=False)
                        verified = True
                    except Exception:
                        verified = False
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver._lock:
                    status = receiver.answer
                    receiver.received.append(Received(headers, body, verified, status))
                self.send_response(status)
                for key, value in receiver.headers.items():
                    self.send_header(key, value)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def delivered(self) -> list[Received]:
        """What was answered 2xx."""
        with self._lock:
            return [r for r in self.received if 200 <= r.status < 300]

    async def until(self, predicate: Any, timeout: float = 10.0) -> list[Received]:
        """Wait until `predicate(delivered)` holds (the event loop goes on meanwhile); returns the delivered
        requests."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.delivered()
            if predicate(got):
                return got
            if time.monotonic() > deadline:
                raise AssertionError(f"webhooks never arrived as expected; got {[r.data for r in got]}")
            await asyncio.sleep(0.02)
