"""The websocket /api/events: a snapshot of the live calls, then every event of the bus as it happens; a user
sees only what its rights and scope cover (core/services/event_scope.py). The token is checked again at every
`UserChanged`: the stream follows its user's new rights and scope, and closes (4401) once the token is
revoked or its user removed, or before the first event after the token expired."""

import asyncio
import contextlib
import json
from datetime import UTC, datetime

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from core.api.bearer import actor_for
from core.api.deps import Deps
from core.services.event_scope import event_visible
from core.services.permissions import ScopeKind
from core.services.scoping import calls_in_scope, in_scope

router = APIRouter()


@router.websocket("/api/events")
async def events(ws: WebSocket, deps: Deps) -> None:
    auth = deps.services.auth
    who = await actor_for(auth, ws.scope)
    if who is None or not who.can("events.read"):
        await ws.close(code=4401, reason="missing or invalid bearer token")
        return
    sub = deps.bus.subscribe()
    group = who.scope.name if who.scope.kind is ScopeKind.GROUP else ""

    async def until_client_leaves() -> None:
        # A client that goes away must free its subscription now, not at the next event.
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            while True:
                await ws.receive_text()
        sub.close()

    watcher: asyncio.Task[None] | None = None
    try:
        numbers = await in_scope(auth, who)
        await ws.accept()
        watcher = asyncio.create_task(until_client_leaves())
        live = deps.daemon.live_calls() if who.can("calls.read") else []
        live = calls_in_scope(live, numbers)
        await ws.send_text(json.dumps({"type": "Snapshot", "live_calls": live}))
        async for event in sub:
            expired = who.expires_at is not None and who.expires_at <= datetime.now(UTC)
            if expired or event.type == "UserChanged":  # is this stream's token still good?
                found = await actor_for(auth, ws.scope)
                if found is None or not found.can("events.read"):
                    await ws.close(code=4401, reason="token revoked, expired or its user removed")
                    return
                who, numbers = found, await in_scope(auth, found)
                group = who.scope.name if who.scope.kind is ScopeKind.GROUP else ""
            elif group and event.type == "GroupChanged":  # the group's numbers may have changed
                numbers = await in_scope(auth, who)
            if event_visible(event, who.can, numbers, group):
                await ws.send_text(event.model_dump_json())
        if sub.overflowed:  # too slow: make the client reconnect and take a fresh snapshot
            await ws.close(code=4408, reason="event stream overflowed; reconnect")
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        sub.close()
        if watcher:
            watcher.cancel()
