"""Schedules: opening hours, holidays and manual overrides, each with where calls go while open or closed."""

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter

from core.api.deps import Svc, Who
from core.api.schemas import HolidayIn, HoursIn, OverrideIn, ScheduleIn

router = APIRouter()


@router.get("/api/schedules")
async def list_schedules(who: Who, svc: Svc) -> list[dict[str, Any]]:
    return [asdict(s) for s in await svc.schedules.schedules(who)]


@router.put("/api/schedules/{name}")
async def save_schedule(name: str, body: ScheduleIn, who: Who, svc: Svc) -> dict[str, Any]:
    view = await svc.schedules.save(
        who, name, timezone=body.timezone, open_to=body.open, closed_to=body.closed
    )
    return asdict(view)


@router.put("/api/schedules/{name}/hours")
async def schedule_hours(name: str, body: HoursIn, who: Who, svc: Svc) -> dict[str, Any]:
    return asdict(await svc.schedules.set_hours(who, name, body.hours))


@router.post("/api/schedules/{name}/holidays", status_code=201)
async def schedule_holiday(name: str, body: HolidayIn, who: Who, svc: Svc) -> dict[str, Any]:
    return asdict(await svc.schedules.add_holiday(who, name, body.day, body.name))


@router.put("/api/schedules/{name}/override")
async def schedule_override(name: str, body: OverrideIn, who: Who, svc: Svc) -> dict[str, Any]:
    return asdict(await svc.schedules.set_override(who, name, body.state))
