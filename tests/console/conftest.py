"""A real daemon API for the console to talk to: core's FastAPI app, a real in-memory database, a real
event bus, served by uvicorn on a free port in the test's loop. Only the daemon's read side (what ARI would
tell it) is a stand-in, because these tests claim nothing about call handling."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest_asyncio
import uvicorn
from fastapi import FastAPI
from textual.pilot import Pilot
from textual.widgets import DataTable
from tortoise.context import tortoise_test_context

from core.api import create_app
from core.config import Settings
from core.events import CallAnswered, CallEnded, CallStarted, DomainEvent, EventBus, Subscription
from core.services import Services
from core.services.calls import CallLog
from core.services.extensions import ExtensionService

TOKEN = "console-test-token-0123456789"


class ClosableEventBus(EventBus):
    """core's bus, remembering its subscriptions so that stopping the server can end them.

    core/api's /api/events handler only notices a closed websocket when it next sends, so without this
    uvicorn waits out its graceful-shutdown timeout on every stop (see the report to the lead)."""

    def __init__(self) -> None:
        super().__init__()
        self.subscriptions: list[Subscription] = []

    def subscribe(self, maxsize: int = 1000) -> Subscription:
        sub = super().subscribe(maxsize)
        self.subscriptions.append(sub)
        return sub

    def close_subscriptions(self) -> None:
        for sub in self.subscriptions:
            sub.close()
        self.subscriptions.clear()


class StandInDaemonView:
    """The daemon's read side (core.api.DaemonView), kept from the bus the way the call manager would."""

    def __init__(self, bus: EventBus) -> None:
        self.started = time.time()
        self.ari_connected = True
        self.ari_error = ""
        self.registered: dict[str, bool] = {}
        self.live: dict[str, dict[str, Any]] = {}
        bus.add_handler(self._track)

    def _track(self, event: DomainEvent) -> None:
        if isinstance(event, CallStarted):
            self.live[event.call_id] = {
                "call_id": event.call_id,
                "caller": event.caller,
                "caller_name": event.caller_name,
                "callee": event.callee,
                "state": "ringing",
                "started_at": event.at.isoformat(),
                "answered_at": None,
            }
        elif isinstance(event, CallAnswered) and event.call_id in self.live:
            self.live[event.call_id] |= {"state": "up", "answered_at": event.at.isoformat()}
        elif isinstance(event, CallEnded):
            self.live.pop(event.call_id, None)

    def health(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.ari_connected else "degraded",
            "ari_connected": self.ari_connected,
            "ari_error": self.ari_error,
            "uptime": round(time.time() - self.started, 1),
            "live_calls": len(self.live),
        }

    def live_calls(self) -> list[dict[str, Any]]:
        return list(self.live.values())

    async def registrations(self) -> dict[str, bool]:
        return dict(self.registered)


class ApiServer:
    """uvicorn on a pre-bound socket, as core/daemon.py runs it; can stop and start again on the same port."""

    def __init__(self, app: FastAPI, bus: ClosableEventBus) -> None:
        self._app = app
        self._bus = bus
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._sock: socket.socket | None = None

    async def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(128)
        sock.setblocking(False)
        self._sock, self.port = sock, sock.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            log_level="warning",
            lifespan="off",
            ws="websockets-sansio",
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign]  # pytest owns signals
        self._server = server
        self._task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        assert self._server and self._task and self._sock
        self._server.should_exit = True
        self._bus.close_subscriptions()
        await self._task
        self._sock.close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class RunningDaemon:
    """What a test drives: the API's address and the real services behind it."""

    server: ApiServer
    bus: ClosableEventBus
    extensions: ExtensionService
    call_log: CallLog
    view: StandInDaemonView

    @property
    def base_url(self) -> str:
        return self.server.base_url


@pytest_asyncio.fixture
async def daemon():
    async with tortoise_test_context(["core.models"], app_label="pbx"):
        bus = ClosableEventBus()
        # the real services; no Asterisk, so nothing is provisioned
        services = Services.build(Settings(data_dir=Path("/nonexistent")), bus)
        await services.auth.ensure_user("admin", "admin", TOKEN)
        extensions = services.extensions
        view = StandInDaemonView(bus)
        server = ApiServer(create_app(services, bus, view), bus)
        await server.start()
        try:
            yield RunningDaemon(server, bus, extensions, CallLog(bus), view)
        finally:
            await server.stop()


async def until(pilot: Pilot[Any], condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the app run until `condition()` holds; fail with the screen's state if it does not in time."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await pilot.pause(0.05)


def rows(table: DataTable[Any]) -> list[list[str]]:
    """The table's cells as plain text, top to bottom."""
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
