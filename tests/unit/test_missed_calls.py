"""Which calls are missed calls, and why (pure), and the periods people type."""

from datetime import UTC, datetime

import pytest

from core.errors import InvalidInput
from core.models import Call
from core.services.missed import CallPath, missed_reason, parse_since

T = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def call(direction="inbound", disposition="no_answer", answered=False):
    return Call(
        call_id="c", caller="+15557654321", callee="+15550001000", direction=direction,
        started_at=T, disposition=disposition, answered_at=T if answered else None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("direction", "disposition", "place", "closed", "reason"),
    [
        ("inbound", "no_answer", "ext:102", False, "no_answer"),
        ("inbound", "busy", "ext:102", False, "busy"),
        ("inbound", "unavailable", "ext:102", False, "unavailable"),
        ("inbound", "cancelled", "queue:support", False, "abandoned"),
        ("inbound", "cancelled", "ivr:main", False, "abandoned"),
        ("inbound", "voicemail", "voicemail:102", False, "voicemail"),
        ("inbound", "busy", "", True, "closed"),  # a closed schedule refused it
        ("inbound", "declined", "", True, "closed"),  # …or sent it to hang up
        ("internal", "no_answer", "group:sales", False, "no_answer"),  # an internal call to a group
        ("internal", "cancelled", "queue:support", False, "abandoned"),
        ("internal", "no_answer", "ext:102", False, None),  # one person's own missed call, not the PBX's
        ("outbound", "busy", "+15557654321", False, None),
        ("inbound", "blocked", "", False, None),  # blocked callers are not missed calls
        ("inbound", "unknown_number", "", False, None),
        ("inbound", "interrupted", "ext:102", False, None),
    ],
)
def test_what_counts_as_missed(direction, disposition, place, closed, reason):
    path = CallPath(closed=closed)
    if place:
        path.went(place)
    assert missed_reason(call(direction, disposition), path) == reason


def test_an_internal_call_to_a_group_that_overflowed_to_one_number_is_still_missed():
    path = CallPath()
    path.went("group:sales", ["102", "103"])
    path.went("voicemail:104", ["104"])
    assert missed_reason(call("internal", "voicemail"), path) == "voicemail"


def test_an_answered_call_is_never_missed():
    assert missed_reason(call(disposition="answered", answered=True), CallPath("ext:102")) is None


def test_the_path_keeps_each_number_once():
    path = CallPath()
    path.went("group:sales", ["102", "103"])
    path.went("ext:102", ["102"])
    assert (path.place, path.numbers) == ("ext:102", ["102", "103"])


def test_periods():
    now = datetime(2026, 12, 4, 15, 30, tzinfo=UTC)
    assert parse_since("today", now) == datetime(2026, 12, 4, tzinfo=UTC)
    assert parse_since("yesterday", now) == datetime(2026, 12, 3, tzinfo=UTC)
    assert parse_since("24h", now) == datetime(2026, 12, 3, 15, 30, tzinfo=UTC)
    assert parse_since("2w", now) == datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
    assert parse_since("2026-12-01", now) == datetime(2026, 12, 1, tzinfo=UTC)
    assert parse_since(None, now) is None
    with pytest.raises(InvalidInput, match="today, yesterday, a span"):
        parse_since("last tuesday", now)
