"""Table tests for schedules (core.routing.schedules)."""

from datetime import UTC, date, datetime, time

import pytest

from core.routing.decisions import Scheduled
from core.routing.destinations import parse_destination
from core.routing.schedules import OpeningWindow, ScheduleInfo, decide_schedule, schedule_is_open


# -- schedules ---------------------------------------------------------------------------------------
def office(windows=((range(0, 5), "09:00", "17:00"),), holidays=(), override=None, tz="Europe/Berlin"):
    return ScheduleInfo(
        "office",
        tz,
        tuple(
            OpeningWindow(frozenset(days), time.fromisoformat(a), time.fromisoformat(b))
            for days, a, b in windows
        ),
        frozenset(date.fromisoformat(d) for d in holidays),
        parse_destination("group:sales"),
        parse_destination("voicemail:101"),
        override,
    )


def at(text):  # a moment in UTC
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("info", "moment", "is_open"),
    [
        (office(), at("2026-11-27T08:30"), True),  # Fri 09:30 in Berlin (UTC+1)
        (office(), at("2026-11-27T07:30"), False),  # Fri 08:30 Berlin: not yet
        (office(), at("2026-11-27T16:00"), False),  # Fri 17:00 Berlin: the end is exclusive
        (office(), at("2026-11-28T10:00"), False),  # Saturday
        (office(tz="America/New_York"), at("2026-11-27T14:30"), True),  # Fri 09:30 in New York
        (office(holidays=["2026-11-27"]), at("2026-11-27T10:00"), False),
        (office(override=True), at("2026-11-28T03:00"), True),
        (office(override=False), at("2026-11-27T10:00"), False),
        # a night shift Fri 22:00 – Sat 06:00 (end before start runs past midnight)
        (office(windows=(([4], "22:00", "06:00"),)), at("2026-11-27T22:30"), True),  # Fri 23:30
        (office(windows=(([4], "22:00", "06:00"),)), at("2026-11-28T03:00"), True),  # Sat 04:00
        (office(windows=(([4], "22:00", "06:00"),)), at("2026-11-28T06:00"), False),  # Sat 07:00
        (office(windows=(([4], "22:00", "06:00"),)), at("2026-11-29T03:00"), False),  # Sun 04:00
        (office(windows=(([4], "22:00", "06:00"),), holidays=["2026-11-27"]), at("2026-11-28T03:00"), False),
        # summer time: 09:30 in Berlin is 07:30 UTC in July
        (office(), at("2026-07-03T07:30"), True),
    ],
)
def test_schedule_is_open(info, moment, is_open):
    assert schedule_is_open(info, moment) is is_open


def test_decide_schedule_picks_the_destination():
    assert decide_schedule(office(), at("2026-11-27T10:00")) == Scheduled(
        "office", True, parse_destination("group:sales")
    )
    assert decide_schedule(office(), at("2026-11-28T10:00")).destination == parse_destination("voicemail:101")
