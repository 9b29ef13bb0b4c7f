"""core's FastAPI app served for real by uvicorn on a free port of 127.0.0.1, in the test's own event loop (so
the test's in-memory database is the app's): for tests that speak real HTTP and websockets to it."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from fastapi import FastAPI


class StandInDaemon:
    """The daemon's read side (core.api.deps.DaemonView) with the given calls in progress."""

    def __init__(self, live: list[dict[str, Any]] | None = None) -> None:
        self.live = live or []
        self.recording: list[str] = []

    def health(self) -> dict[str, Any]:
        return {"status": "ok", "ari_connected": True}

    def live_calls(self) -> list[dict[str, Any]]:
        return [dict(c) for c in self.live]

    async def registrations(self) -> dict[str, bool]:
        return {}

    async def start_recording(self, call_id: str) -> str:
        self.recording.append(call_id)
        return call_id

    async def stop_recording(self, call_id: str) -> None:
        self.recording.remove(call_id)

    def live_queues(self) -> list[dict[str, Any]]:
        return []


@contextlib.asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """Serve `app`; yields its address, e.g. `127.0.0.1:43210`."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.setblocking(False)
    config = uvicorn.Config(
        app, log_level="warning", lifespan="off", ws="websockets-sansio", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign]  # pytest owns signals
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            assert not task.done(), "uvicorn did not start"
            await asyncio.sleep(0.01)
        yield f"127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()
