"""Ring groups and their members."""

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter

from core.api.deps import Svc, Who
from core.api.schemas import GroupIn, MembersIn

router = APIRouter()


@router.get("/api/groups")
async def list_groups(who: Who, svc: Svc) -> list[dict[str, Any]]:
    return [asdict(g) for g in await svc.groups.groups(who)]


@router.put("/api/groups/{name}")
async def save_group(name: str, body: GroupIn, who: Who, svc: Svc) -> dict[str, Any]:
    return asdict(await svc.groups.save(who, name, **body.model_dump()))


@router.put("/api/groups/{name}/members")
async def set_members(name: str, body: MembersIn, who: Who, svc: Svc) -> dict[str, Any]:
    return asdict(await svc.groups.set_members(who, name, body.members))


@router.delete("/api/groups/{name}", status_code=204)
async def remove_group(name: str, who: Who, svc: Svc) -> None:
    await svc.groups.remove(who, name)
