"""The live-call picture stays right when a snapshot and the events around it overlap."""

from __future__ import annotations

from datetime import UTC, datetime

from console import format as fmt
from console.live import LiveCallBoard
from console.records import LiveCall

AT = "2026-11-27T10:00:00Z"


def test_events_after_a_snapshot_are_applied_once():
    board = LiveCallBoard()
    board.reset([LiveCall("c1", "101", "Alice", "102", "ringing", datetime(2026, 11, 27, 9, 59, tzinfo=UTC))])
    started = {"type": "CallStarted", "call_id": "c1", "caller": "101", "callee": "102", "at": AT}
    assert board.apply(started) is False  # already in the snapshot
    assert board.apply({"type": "CallAnswered", "call_id": "c1", "caller": "101", "callee": "102", "at": AT})
    assert [(c.state, c.answered_at) for c in board.calls] == [("up", datetime(2026, 11, 27, 10, tzinfo=UTC))]
    assert board.apply({"type": "CallEnded", "call_id": "c1", "caller": "101", "callee": "102", "at": AT})
    assert (
        board.apply({"type": "CallEnded", "call_id": "c1", "caller": "101", "callee": "102", "at": AT})
        is False
    )
    assert board.calls == ()


def test_ringing_then_answered():
    board = LiveCallBoard()
    board.apply({"type": "CallStarted", "call_id": "c2", "caller": "101", "callee": "102", "at": AT})
    assert [c.state for c in board.calls] == ["routing"]
    assert board.apply({"type": "CallRinging", "call_id": "c2", "caller": "101", "callee": "102", "at": AT})
    assert [c.state for c in board.calls] == ["ringing"]
    assert board.apply({"type": "CallAnswered", "call_id": "c2", "caller": "101", "callee": "102", "at": AT})
    assert (
        board.apply({"type": "CallRinging", "call_id": "c2", "caller": "101", "callee": "102", "at": AT})
        is False
    )
    assert [c.state for c in board.calls] == ["up"]


def test_other_events_leave_the_board_alone():
    board = LiveCallBoard()
    assert board.apply({"type": "ExtensionAdded", "number": "101"}) is False
    assert board.apply({"type": "CallStarted"}) is False  # malformed: no call id


def test_durations_read_like_a_clock():
    assert [fmt.duration(s) for s in (0, 7.9, 65, 3723)] == ["0:00", "0:07", "1:05", "1:02:03"]
