"""IVR menus: their settings, their key options and their uploaded prompts."""

import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request

from core.api.deps import Svc, Who
from core.api.routes import named
from core.api.schemas import IvrIn, IvrOptionIn
from core.errors import InvalidInput

router = APIRouter()


@router.get("/api/ivrs")
async def list_ivrs(who: Who, svc: Svc) -> list[dict[str, Any]]:
    return [asdict(m) for m in await svc.ivrs.menus(who)]


@router.get("/api/ivrs/{name}")
async def get_ivr(name: str, who: Who, svc: Svc) -> dict[str, Any]:
    return named(await svc.ivrs.menus(who), name, "IVR menu")


@router.put("/api/ivrs/{name}")
async def save_ivr(name: str, body: IvrIn, who: Who, svc: Svc) -> dict[str, Any]:
    return asdict(await svc.ivrs.save(who, name, **body.model_dump()))


@router.delete("/api/ivrs/{name}", status_code=204)
async def remove_ivr(name: str, who: Who, svc: Svc) -> None:
    await svc.ivrs.remove(who, name)


@router.put("/api/ivrs/{name}/options/{key}")
async def set_ivr_option(name: str, key: str, body: IvrOptionIn, who: Who, svc: Svc) -> dict[str, Any]:
    return asdict(await svc.ivrs.set_option(who, name, key, body.destination))


@router.delete("/api/ivrs/{name}/options/{key}", status_code=204)
async def remove_ivr_option(name: str, key: str, who: Who, svc: Svc) -> None:
    await svc.ivrs.set_option(who, name, key, None)


@router.put("/api/ivrs/{name}/prompt")
async def upload_ivr_prompt(
    name: str, request: Request, who: Who, svc: Svc, filename: str = "prompt.wav"
) -> dict[str, Any]:
    """The request body is the WAV file itself (8 kHz, 16-bit, mono); `filename` only names it in
    errors. Bytes rather than a path, so that a client need not share the daemon's file system."""
    data = await request.body()  # at most MAX_PROMPT_BYTES: BodyLimit cuts off the rest (413)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "prompt.wav"
        path.write_bytes(data)
        try:
            return asdict(await svc.ivrs.upload_prompt(who, name, path))
        except InvalidInput as exc:  # name the client's file, not our temporary copy
            raise InvalidInput(str(exc).replace(str(path), filename)) from None
