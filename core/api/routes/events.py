"""The websocket /api/events: a snapshot of the live calls, then every event of the bus as it happens."""

import asyncio
import contextlib
import json

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from core.api.bearer import actor_for
from core.api.deps import Deps

router = APIRouter()


@router.websocket("/api/events")
async def events(ws: WebSocket, deps: Deps) -> None:
    who = await actor_for(deps.services.auth, ws.scope)
    if who is None or not who.can("events.read"):
        await ws.close(code=4401, reason="missing or invalid bearer token")
        return
    sub = deps.bus.subscribe()

    async def until_client_leaves() -> None:
        # A client that goes away must free its subscription now, not at the next event.
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            while True:
                await ws.receive_text()
        sub.close()

    watcher: asyncio.Task[None] | None = None
    try:
        await ws.accept()
        watcher = asyncio.create_task(until_client_leaves())
        await ws.send_text(json.dumps({"type": "Snapshot", "live_calls": deps.daemon.live_calls()}))
        async for event in sub:
            await ws.send_text(event.model_dump_json())
        if sub.overflowed:  # too slow: make the client reconnect and take a fresh snapshot
            await ws.close(code=4408, reason="event stream overflowed; reconnect")
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        sub.close()
        if watcher:
            watcher.cancel()
