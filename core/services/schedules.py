"""Schedules (time conditions): business hours, holidays and a manual override."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core.errors import Conflict, InvalidInput, NotFound
from core.events import EventBus, ScheduleChanged, ScheduleSettingsChanged
from core.models import Schedule, ScheduleHoliday, ScheduleWindow
from core.routing.schedules import WEEKDAYS, schedule_is_open
from core.services.auth import Actor, AuthService
from core.services.internal.config import schedule_info
from core.services.scoping import authorize_org
from core.services.validation import given, routable_destination

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
RANGE_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]|24):([0-5]\d)$")


@dataclass(frozen=True)
class ScheduleView:
    """A schedule as shown to users."""

    name: str
    timezone: str
    open_destination: str
    closed_destination: str
    override: str | None
    hours: list[str]
    holidays: list[str]
    open_now: bool


def parse_days(text: str) -> list[str]:
    """mon-fri, sat,sun, daily → weekday names in order."""
    text = text.strip().lower()
    if text in ("daily", "every day", "all"):
        return list(WEEKDAYS)
    days: list[str] = []
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        if first not in WEEKDAYS or (last and last not in WEEKDAYS):
            raise InvalidInput(
                f"days {text!r}: use mon..sun, ranges like mon-fri, lists like sat,sun, or daily"
            )
        a, b = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
        span = range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)]
        days += [WEEKDAYS[i] for i in span if WEEKDAYS[i] not in days]
    return sorted(days, key=WEEKDAYS.index)


def parse_range(text: str) -> tuple[str, str]:
    """09:00-17:30 (24:00 means midnight; an end before the start runs past midnight)."""
    m = RANGE_RE.fullmatch(text.strip())
    if not m or text.strip()[:5] == text.strip()[6:]:
        raise InvalidInput(f"hours {text!r}: use HH:MM-HH:MM, e.g. 09:00-17:30")
    start, end = text.strip().split("-")
    return start, "00:00" if end == "24:00" else end


class ScheduleService:
    """Create schedules, set their hours, holidays and override (every change audited and published); tell
    watchers when one opens or closes. What routing reads of them is core/services/internal/config.py."""

    def __init__(self, auth: AuthService, bus: EventBus, country: str = "US") -> None:
        self._auth = auth
        self._bus = bus
        self._country = country  # how national numbers in external: destinations are read
        self._last_state: dict[str, bool] = {}

    async def schedules(self, actor: Actor) -> list[ScheduleView]:
        """All schedules with their hours and whether they are open now."""
        await self._auth.authorize(actor, "schedules.read")
        return [await self._view(s) for s in await Schedule.all().order_by("name")]

    async def save(
        self, actor: Actor, name: str, *, timezone: str, open_to: str, closed_to: str
    ) -> ScheduleView:
        """Create or change a schedule: its timezone and where calls go when open and when closed."""
        name = (name or "").strip().lower()
        if not NAME_RE.fullmatch(name):
            raise InvalidInput("schedule name must be letters, digits, - or _ (at most 32), e.g. office")
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInput(
                f"unknown timezone {timezone!r}: use a name like Europe/Berlin or UTC"
            ) from None
        destinations = []
        for text in (open_to, closed_to):
            if text.strip().lower() == f"schedule:{name}":
                raise InvalidInput(f"schedule {name} cannot send calls to itself")
            destinations.append(str(await routable_destination(text, self._country)))
        await authorize_org(self._auth, actor, "schedules.write", f"schedule:{name}")
        values = {
            "timezone": timezone,
            "open_destination": destinations[0],
            "closed_destination": destinations[1],
        }
        async with in_transaction():
            schedule, created = await Schedule.get_or_create(name=name, defaults=values)
            before = None if created else {k: getattr(schedule, k) for k in values}
            if not created:
                await schedule.update_from_dict(values).save()
            detail = values | {"before": before, "after": values}
            await self._auth.audit(actor, "schedule.add" if created else "schedule.update", name, detail)
        return await self._publish(actor, "added" if created else "updated", schedule)

    async def set_hours(self, actor: Actor, name: str, hours: list[tuple[str, str]]) -> ScheduleView:
        """Replace the opening hours: [("mon-fri", "09:00-17:00"), ("sat", "10:00-14:00")]."""
        windows = [(",".join(parse_days(days)), *parse_range(span)) for days, span in hours]
        await authorize_org(self._auth, actor, "schedules.write", f"schedule:{name}")
        schedule = await self._schedule(name)
        before = (await self._view(schedule)).hours
        async with in_transaction():
            await ScheduleWindow.filter(schedule=schedule).delete()
            for days, start, end in windows:
                await ScheduleWindow.create(schedule=schedule, days=days, start=start, end=end)
            await self._auth.audit(
                actor,
                "schedule.hours",
                schedule.name,
                {
                    "hours": [list(w) for w in windows],
                    "before": {"hours": before},
                    "after": {"hours": [f"{d} {a}-{b}" for d, a, b in windows]},
                },
            )
        return await self._publish(actor, "updated", schedule)

    async def add_holiday(self, actor: Actor, name: str, day: str, label: str = "") -> ScheduleView:
        """Close the schedule all day on `day` (YYYY-MM-DD)."""
        try:
            when = date.fromisoformat(day.strip())
        except ValueError:
            raise InvalidInput(f"holiday {day!r}: use YYYY-MM-DD") from None
        await authorize_org(self._auth, actor, "schedules.write", f"schedule:{name}")
        schedule = await self._schedule(name)
        try:
            async with in_transaction():
                await ScheduleHoliday.create(schedule=schedule, day=when, name=label.strip()[:100])
                await self._auth.audit(
                    actor, "schedule.holiday", schedule.name, {"day": str(when), "name": label}
                )
        except IntegrityError:
            raise Conflict(f"{when} is a holiday of {schedule.name} already") from None
        return await self._publish(actor, "updated", schedule)

    async def set_override(self, actor: Actor, name: str, state: str) -> ScheduleView:
        """Force the schedule open or closed, or back to the clock with `auto`."""
        state = state.strip().lower()
        if state not in ("open", "closed", "auto"):
            raise InvalidInput("override must be open, closed or auto")
        await authorize_org(self._auth, actor, "schedules.write", f"schedule:{name}")
        schedule = await self._schedule(name)
        before, schedule.override = schedule.override, None if state == "auto" else state
        async with in_transaction():
            await schedule.save(update_fields=["override"])
            detail = {
                "state": state,
                "before": {"override": before},
                "after": {"override": schedule.override},
            }
            await self._auth.audit(actor, "schedule.override", schedule.name, detail)
        await self._publish(actor, "updated", schedule)
        await self.check()  # watchers hear of it at once, not at the next tick
        return await self._view(schedule)

    # -- for the scheduler --------------------------------------------------------------------
    async def check(self, now: datetime | None = None) -> list[ScheduleChanged]:
        """Publish a ScheduleChanged event for every schedule that opened or closed since the last check."""
        now = now or datetime.now(UTC)
        changed = []
        for name in [s.name for s in await Schedule.all()]:
            info = await schedule_info(name)
            if info is None:
                continue
            is_open = schedule_is_open(info, now)
            before = self._last_state.get(name)
            self._last_state[name] = is_open
            if before is not None and before != is_open:
                changed.append(await self._bus.publish(ScheduleChanged(name=name, open=is_open)))
        return changed  # type: ignore[return-value]

    async def _schedule(self, name: str) -> Schedule:
        schedule = await Schedule.get_or_none(name=given(name, "schedule name", "office").lower())
        if schedule is None:
            raise NotFound(f"schedule {name} does not exist")
        return schedule

    async def _publish(
        self, actor: Actor, action: Literal["added", "updated"], schedule: Schedule
    ) -> ScheduleView:
        """Tell what the schedule's settings now are; returns its view."""
        view = await self._view(schedule)
        await self._bus.publish(
            ScheduleSettingsChanged(
                action=action,
                actor=actor.name,
                schedule=view.name,
                timezone=view.timezone,
                open_destination=view.open_destination,
                closed_destination=view.closed_destination,
                override=view.override,
                hours=view.hours,
                holidays=view.holidays,
            )
        )
        return view

    async def _view(self, schedule: Schedule) -> ScheduleView:
        info = await schedule_info(schedule.name)
        windows = await ScheduleWindow.filter(schedule=schedule)
        holidays = await ScheduleHoliday.filter(schedule=schedule).order_by("day")
        return ScheduleView(
            schedule.name,
            schedule.timezone,
            schedule.open_destination,
            schedule.closed_destination,
            schedule.override,
            [f"{w.days} {w.start}-{w.end}" for w in windows],
            [f"{h.day} {h.name}".strip() for h in holidays],
            schedule_is_open(info, datetime.now(UTC)) if info else False,
        )
