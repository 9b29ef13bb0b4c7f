"""Calls: the live ones, recording one on demand, and the history."""

from typing import Annotated, Any

from fastapi import APIRouter, Query

from core.api.deps import Daemon, DaemonView, Svc, Who
from core.services.scoping import authorize_call, calls_in_scope, in_scope

router = APIRouter()


@router.get("/api/calls/live")
async def live_calls(who: Who, svc: Svc, daemon: Daemon) -> list[dict[str, Any]]:
    await svc.auth.authorize(who, "calls.read")
    return calls_in_scope(daemon.live_calls(), await in_scope(svc.auth, who))


def _live(daemon: DaemonView, call_id: str) -> dict[str, Any] | None:
    return next((c for c in daemon.live_calls() if c.get("call_id") == call_id), None)


@router.get("/api/calls")
async def calls(who: Who, svc: Svc, limit: Annotated[int, Query(ge=1, le=1000)] = 20) -> list[dict[str, Any]]:
    return await svc.history.recent(who, limit)


@router.post("/api/calls/{call_id}/recording", status_code=201)
async def start_recording(call_id: str, who: Who, svc: Svc, daemon: Daemon) -> dict[str, str]:
    await authorize_call(svc.auth, who, "calls.record", _live(daemon, call_id))
    name = await daemon.start_recording(call_id)
    await svc.auth.audit(who, "recording.start", call_id)
    return {"call_id": call_id, "recording": name}


@router.delete("/api/calls/{call_id}/recording", status_code=204)
async def stop_recording(call_id: str, who: Who, svc: Svc, daemon: Daemon) -> None:
    await authorize_call(svc.auth, who, "calls.record", _live(daemon, call_id))
    await daemon.stop_recording(call_id)
    await svc.auth.audit(who, "recording.stop", call_id)
