"""Schedules through the service: validation, hours, holidays, override, and open/closed events."""

from datetime import UTC, datetime

import pytest

from core.errors import Conflict, InvalidInput, NotFound
from core.events import EventBus
from core.models import EventRecord
from core.services.auth import Actor, AuthService
from core.services.extensions import ExtensionService
from core.services.internal import config
from core.services.schedules import ScheduleService, parse_days, parse_range

ADMIN = Actor("alice", "admin", "cli")


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("mon-fri", ["mon", "tue", "wed", "thu", "fri"]),
        ("sat,sun", ["sat", "sun"]),
        ("fri-mon", ["mon", "fri", "sat", "sun"]),
        ("daily", ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
    ],
)
def test_days(text, days):
    assert parse_days(text) == days


@pytest.mark.parametrize("text", ["weekdays", "mon-funday", ""])
def test_bad_days(text):
    with pytest.raises(InvalidInput, match=r"use mon\.\.sun"):
        parse_days(text)


@pytest.mark.parametrize(
    ("text", "span"), [("09:00-17:30", ("09:00", "17:30")), ("22:00-24:00", ("22:00", "00:00"))]
)
def test_ranges(text, span):
    assert parse_range(text) == span


@pytest.mark.parametrize("text", ["9-17", "09:00-09:00", "25:00-26:00", "09:00"])
def test_bad_ranges(text):
    with pytest.raises(InvalidInput, match="HH:MM-HH:MM"):
        parse_range(text)


@pytest.fixture
async def schedules(db):
    for number in ("101", "102"):
        await ExtensionService(AuthService(), EventBus()).add(ADMIN, number)
    return ScheduleService(AuthService(), EventBus())


async def test_schedule_life(schedules):
    view = await schedules.save(
        ADMIN, "Office", timezone="Europe/Berlin", open_to="ext:101", closed_to="voicemail:102"
    )
    assert (view.name, view.open_destination, view.closed_destination) == (
        "office",
        "ext:101",
        "voicemail:102",
    )
    view = await schedules.set_hours(ADMIN, "office", [("mon-fri", "09:00-17:00"), ("sat", "10:00-14:00")])
    assert view.hours == ["mon,tue,wed,thu,fri 09:00-17:00", "sat 10:00-14:00"]
    await schedules.add_holiday(ADMIN, "office", "2026-12-25", "Christmas")
    with pytest.raises(Conflict, match="already"):
        await schedules.add_holiday(ADMIN, "office", "2026-12-25")
    info = await config.schedule_info("office")
    assert len(info.windows) == 2 and {str(d) for d in info.holidays} == {"2026-12-25"}


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"timezone": "Mars/Olympus"}, InvalidInput, "unknown timezone"),
        ({"open_to": "ext:555"}, NotFound, "internal number 555"),
        ({"closed_to": "schedule:office"}, InvalidInput, "cannot send calls to itself"),
        ({"closed_to": "queue:vip"}, NotFound, "queue vip does not exist"),
    ],
)
async def test_bad_schedules(schedules, kwargs, error, message):
    args = {"timezone": "UTC", "open_to": "ext:101", "closed_to": "ext:102"} | kwargs
    with pytest.raises(error, match=message):
        await schedules.save(ADMIN, "office", **args)


async def test_open_and_closed_events_when_the_state_changes(schedules):
    await schedules.save(ADMIN, "office", timezone="UTC", open_to="ext:101", closed_to="ext:102")
    await schedules.set_hours(ADMIN, "office", [("daily", "09:00-17:00")])
    assert await schedules.check(datetime(2026, 11, 27, 8, 59, tzinfo=UTC)) == []  # first look: no change
    assert await schedules.check(datetime(2026, 11, 27, 8, 59, 30, tzinfo=UTC)) == []
    (opened,) = await schedules.check(datetime(2026, 11, 27, 9, 0, tzinfo=UTC))
    assert (opened.name, opened.open) == ("office", True)
    await schedules.set_override(ADMIN, "office", "closed")  # tells watchers at once
    event = await EventRecord.filter(type="ScheduleChanged").order_by("-id").first()
    assert (event.payload["name"], event.payload["open"]) == ("office", False)
    with pytest.raises(InvalidInput, match="open, closed or auto"):
        await schedules.set_override(ADMIN, "office", "maybe")
