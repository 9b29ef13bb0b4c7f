"""Statistics: per queue (with its agents), per internal number, per group, over a period."""

from typing import Annotated, Any

from fastapi import APIRouter, Query

from core.api.deps import Svc, Who

router = APIRouter()
From = Annotated[
    str | None, Query(alias="from", description="today (default), yesterday, 24h, 7d, or a date")
]
To = Annotated[str | None, Query(alias="to", description="now (default), or a date (to its end)")]


@router.get("/api/stats/queues")
async def queue_stats(
    who: Who, svc: Svc, since: From = None, until: To = None, queue: str | None = None
) -> list[dict[str, Any]]:
    return await svc.stats.queues(who, queue, since, until)


@router.get("/api/stats/numbers")
async def number_stats(who: Who, svc: Svc, since: From = None, until: To = None) -> list[dict[str, Any]]:
    return await svc.stats.numbers(who, since, until)


@router.get("/api/stats/groups")
async def group_stats(who: Who, svc: Svc, since: From = None, until: To = None) -> list[dict[str, Any]]:
    return await svc.stats.groups(who, since, until)
