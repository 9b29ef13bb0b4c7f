"""Extensions: the internal numbers, with their registration state."""

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter

from core.api.deps import Daemon, Svc, Who
from core.api.schemas import ExtensionIn, ExtensionPatch

router = APIRouter()


@router.get("/api/extensions")
async def list_extensions(who: Who, svc: Svc, daemon: Daemon) -> list[dict[str, Any]]:
    registered = await daemon.registrations()
    return [asdict(e) | {"registered": registered.get(e.number)} for e in await svc.extensions.list(who)]


@router.get("/api/extensions/{number}")
async def get_extension(number: str, who: Who, svc: Svc, daemon: Daemon) -> dict[str, Any]:
    ext = await svc.extensions.get(who, number)
    return asdict(ext) | {"registered": (await daemon.registrations()).get(ext.number)}


@router.post("/api/extensions", status_code=201)
async def add_extension(body: ExtensionIn, who: Who, svc: Svc) -> dict[str, Any]:
    return asdict(await svc.extensions.add(who, body.number, body.name, body.password, body.enabled))


@router.patch("/api/extensions/{number}")
async def update_extension(number: str, body: ExtensionPatch, who: Who, svc: Svc) -> dict[str, Any]:
    if body.dnd is not None:
        await svc.forwarding.set_dnd(who, number, body.dnd)
    changes = body.model_dump(exclude={"dnd"}, exclude_none=True)
    if not changes:
        return asdict(await svc.extensions.get(who, number))
    return asdict(await svc.extensions.update(who, number, **changes))


@router.delete("/api/extensions/{number}", status_code=204)
async def remove_extension(number: str, who: Who, svc: Svc) -> None:
    await svc.extensions.remove(who, number)
