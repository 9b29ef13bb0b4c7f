"""The event stream and the event log. GET /api/events?after=ID&limit=N pages through the persisted log; the
websocket /api/events (?after=ID: first the events after ID it missed) sends a snapshot of the live calls,
then every event of the bus as it happens. A user sees only what its rights and scope cover
(core/services/event_scope.py). The token is checked again at every
`UserChanged`: the stream follows its user's new rights and scope, and closes (4401) once the token is
revoked or its user removed, or before the first event after the token expired."""

import asyncio
import contextlib
import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect

from core.api.bearer import actor_for
from core.api.deps import Deps, Svc, Who
from core.services.event_log import EventPage, page_of_events
from core.services.event_scope import event_visible
from core.services.permissions import ScopeKind
from core.services.scoping import calls_in_scope, in_scope
from core.services.validation import MAX_ID, row_id

router = APIRouter()


@router.get("/api/events")
async def event_log(
    who: Who,
    svc: Svc,
    after: Annotated[int, Query(ge=0, le=MAX_ID, description="the last event id the client has")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Events after `after`, oldest first; go on with `after` = the answer's `next_after` while `more`."""
    page = await page_of_events(svc.auth, who, after, limit)
    return {
        "events": [e.model_dump(mode="json") for e in page.events],
        "next_after": page.next_after,
        "more": page.more,
    }


@router.websocket("/api/events")
async def events(ws: WebSocket, deps: Deps, after: str | None = None) -> None:
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
        replayed: set[int] = set()  # ids sent from the log: the live stream skips those, and only those
        if after is not None:
            start = 0 if after.strip() == "0" else row_id(after)
            if start is None:
                await ws.close(code=4400, reason="after must be an event id (0 for the whole log)")
                return
            page = EventPage([], start, True)  # a client back after a drop: what it missed, from the log
            while page.more:
                page = await page_of_events(auth, who, page.next_after, 500)
                for old in page.events:
                    await ws.send_text(old.model_dump_json())
                    replayed.add(int(old.id or 0))
        live = deps.daemon.live_calls() if who.can("calls.read") else []
        live = calls_in_scope(live, numbers)
        await ws.send_text(json.dumps({"type": "Snapshot", "live_calls": live}))
        live_count = 0
        async for event in sub:
            if event.id in replayed:  # sent from the log already (one that committed late still comes)
                replayed.discard(event.id)
                continue
            live_count += 1
            if live_count == 1000:  # long past any overlap between the log and the live stream
                replayed.clear()
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
