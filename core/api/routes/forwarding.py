"""Call forwarding of extensions, per condition (do-not-disturb is a field of PATCH /api/extensions)."""

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter

from core.api.deps import Svc, Who
from core.api.schemas import ForwardingIn

router = APIRouter()


@router.get("/api/forwarding")
async def list_forwarding(who: Who, svc: Svc, number: str | None = None) -> list[dict[str, Any]]:
    return [asdict(v) for v in await svc.forwarding.list(who, number)]


@router.put("/api/extensions/{number}/forwarding/{condition}")
async def set_forwarding(
    number: str, condition: str, body: ForwardingIn, who: Who, svc: Svc
) -> dict[str, Any]:
    return asdict(await svc.forwarding.set(who, number, condition, body.destination, body.ring_seconds))


@router.delete("/api/extensions/{number}/forwarding/{condition}", status_code=204)
async def clear_forwarding(number: str, condition: str, who: Who, svc: Svc) -> None:
    await svc.forwarding.clear(who, number, condition)
