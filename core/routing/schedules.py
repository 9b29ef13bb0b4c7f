"""Schedules (time conditions): open or closed at a moment, and where a call goes then. No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.routing.decisions import Scheduled
from core.routing.destinations import Destination

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class OpeningWindow:
    """Open on `days` (weekday numbers, Monday = 0) from `start` to `end`; an end at or before the start
    runs past midnight into the next day."""

    days: frozenset[int]
    start: time
    end: time


@dataclass(frozen=True)
class ScheduleInfo:
    """A schedule as routing sees it."""

    name: str
    timezone: str
    windows: tuple[OpeningWindow, ...]
    holidays: frozenset[date]
    open_destination: Destination
    closed_destination: Destination
    override: bool | None = None  # True: forced open; False: forced closed; None: by the clock


def schedule_is_open(schedule: ScheduleInfo, now: datetime) -> bool:
    """Whether the schedule is open at `now` (any timezone-aware moment), in the schedule's own timezone."""
    if schedule.override is not None:
        return schedule.override
    local = now.astimezone(ZoneInfo(schedule.timezone))
    today, clock = local.date(), local.time().replace(tzinfo=None)
    for window in schedule.windows:
        overnight = window.end <= window.start
        if today.weekday() in window.days and today not in schedule.holidays:
            if window.start <= clock and (overnight or clock < window.end):
                return True
        yesterday = today - timedelta(days=1)
        if overnight and yesterday.weekday() in window.days and yesterday not in schedule.holidays:
            if clock < window.end:  # the tail of last night's window
                return True
    return False


def decide_schedule(schedule: ScheduleInfo, now: datetime) -> Scheduled:
    """Where the schedule sends a call at `now`."""
    is_open = schedule_is_open(schedule, now)
    return Scheduled(
        schedule.name, is_open, schedule.open_destination if is_open else schedule.closed_destination
    )
