"""Trunks to carriers, and the routes of their public numbers (DIDs) into the PBX."""

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter

from core.api.deps import Svc, Who
from core.api.schemas import RouteIn, TrunkIn

router = APIRouter()


@router.get("/api/trunks")
async def list_trunks(who: Who, svc: Svc) -> list[dict[str, Any]]:
    return [asdict(t) for t in await svc.trunks.trunks(who)]


@router.post("/api/trunks", status_code=201)
async def add_trunk(body: TrunkIn, who: Who, svc: Svc) -> dict[str, Any]:
    return asdict(
        await svc.trunks.add(
            who,
            body.name,
            body.host,
            body.port,
            body.caller_id,
            body.username,
            body.password,
            body.registers,
        )
    )


@router.delete("/api/trunks/{name}", status_code=204)
async def remove_trunk(name: str, who: Who, svc: Svc) -> None:
    await svc.trunks.remove(who, name)


@router.get("/api/routes")
async def list_routes(who: Who, svc: Svc) -> list[dict[str, Any]]:
    return [asdict(r) for r in await svc.trunks.routes(who)]


@router.put("/api/routes/{did}")
async def set_route(did: str, body: RouteIn, who: Who, svc: Svc) -> dict[str, Any]:
    return asdict(await svc.trunks.set_route(who, did, body.destination, body.whitelist_only))


@router.delete("/api/routes/{did}", status_code=204)
async def remove_route(did: str, who: Who, svc: Svc) -> None:
    await svc.trunks.remove_route(who, did)
