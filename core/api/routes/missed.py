"""Missed calls: listed (open ones first; a scoped user sees its own numbers'), marked handled."""

from typing import Annotated, Any

from fastapi import APIRouter, Query

from core.api.deps import Svc, Who

router = APIRouter()


@router.get("/api/missed")
async def list_missed(
    who: Who,
    svc: Svc,
    open: Annotated[bool, Query(description="only those nobody returned or handled")] = False,
    since: Annotated[str | None, Query(description="today, yesterday, 24h, 7d, 2w or a date")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
) -> list[dict[str, Any]]:
    return await svc.missed.missed(who, open, since, limit)


@router.post("/api/missed/{missed_id}/handle")
async def handle_missed(missed_id: str, who: Who, svc: Svc) -> dict[str, Any]:
    return await svc.missed.handle(who, missed_id)
