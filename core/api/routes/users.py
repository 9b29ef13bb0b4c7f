"""Users: list, show, add, change and remove (their tokens are routes/tokens.py)."""

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter

from core.api.deps import Svc, Who
from core.api.schemas import UserIn, UserPatch

router = APIRouter()


@router.get("/api/users")
async def list_users(who: Who, svc: Svc) -> list[dict[str, Any]]:
    return [asdict(u) for u in await svc.users.users(who)]


@router.post("/api/users", status_code=201)
async def add_user(body: UserIn, who: Who, svc: Svc) -> dict[str, Any]:
    return asdict(await svc.users.add(who, body.name, body.role, body.scope))


@router.get("/api/users/{name}")
async def get_user(name: str, who: Who, svc: Svc) -> dict[str, Any]:
    return asdict(await svc.users.get(who, name))


@router.patch("/api/users/{name}")
async def update_user(name: str, body: UserPatch, who: Who, svc: Svc) -> dict[str, Any]:
    return asdict(await svc.users.set(who, name, **body.model_dump()))


@router.delete("/api/users/{name}", status_code=204)
async def remove_user(name: str, who: Who, svc: Svc) -> None:
    await svc.users.remove(who, name)
