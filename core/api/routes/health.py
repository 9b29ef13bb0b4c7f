"""GET /api/health: the daemon's own account of how it is doing."""

from typing import Any

from fastapi import APIRouter

from core.api.deps import Daemon, Svc, Who

router = APIRouter()


@router.get("/api/health")
async def health(who: Who, svc: Svc, daemon: Daemon) -> dict[str, Any]:
    await svc.auth.authorize(who, "system.read")
    return daemon.health()
