"""The bodies integrators receive (pure): every type has the common fields; each adds its own."""

from datetime import UTC, datetime

import pytest

from core.events import (
    CallAnswered,
    CallEnded,
    CallerBlocked,
    CallStarted,
    MissedCall,
    QueueAgentLoggedIn,
    QueueAgentStateChanged,
    RecordingSaved,
    VoicemailLeft,
)
from core.notify.webhooks.events import CallFacts, body, numbers_concerned, status_of, webhook_type

T = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
COMMON = {
    "event_id", "event", "sequence", "call_id", "sub_call_id", "caller", "caller_name", "callee", "did",
    "extension", "direction", "status", "duration", "talk_seconds", "recording", "at",
}  # fmt: skip


def facts(direction="inbound", disposition="answered", answered_by="102", ended=T):
    return CallFacts(
        "c1",
        "+15557654321",
        "ACME",
        "+15550001000",
        direction,
        T,
        ended,
        disposition,
        answered_by,
        95.0,
        "answered",
    )


def make(event, call=None, sequence=None, url=""):
    event.id = 41
    kind = webhook_type(event)
    return kind, body(event, kind, call, sequence, url)


@pytest.mark.parametrize(
    ("direction", "kind"), [("inbound", "dial-in"), ("outbound", "dial-out"), ("internal", "internal")]
)
def test_a_call_starts_as_the_type_of_its_direction(direction, kind):
    got, data = make(
        CallStarted(call_id="c1", caller="101", callee="x", direction=direction), facts(direction), 1
    )
    assert got == kind and set(data) >= COMMON and data["event_id"] == "41" and data["sequence"] == 1
    assert data["direction"] == {"inbound": "in", "outbound": "out", "internal": "internal"}[direction]
    assert data["did"] == ("+15550001000" if direction == "inbound" else None)


def test_answer_hangup_and_recording():
    _, answer = make(
        CallAnswered(call_id="c1", caller="a", callee="b", sub_call_id="leg", answered_by="103"), facts(), 2
    )
    assert (answer["extension"], answer["sub_call_id"], answer["status"]) == ("103", "leg", "answered")
    ended = facts(ended=T.replace(minute=32))
    _, hangup = make(CallEnded(call_id="c1", caller="a", callee="b", disposition="answered"), ended, 3)
    assert (hangup["duration"], hangup["talk_seconds"], hangup["status"], hangup["outcome"]) == (
        120,
        95,
        "answered",
        "answered",
    )
    _, rec = make(
        RecordingSaved(call_id="c1", caller="a", callee="b", name="c1", path="/x", duration=9.5, size=1),
        facts(), 4, "http://pbx/api/recordings/c1/audio",
    )  # fmt: skip
    assert rec["recording"] == {"id": "c1", "url": "http://pbx/api/recordings/c1/audio", "duration": 9.5}


def test_missed_voicemail_blocked_and_agents():
    _, missed = make(
        MissedCall(
            call_id="c1", caller="a", callee="b", missed_id=7, reason="busy", ended="ext:102", numbers=["102"]
        ),
        facts(disposition="busy", answered_by=""),
        2,
    )
    assert (missed["missed_call"], missed["reason"], missed["extension"], missed["numbers"]) == (
        7,
        "busy",
        "102",
        ["102"],
    )
    _, vm = make(
        VoicemailLeft(
            call_id="c1", caller="a", callee="b", mailbox="104", path="/p", duration=3, voicemail_id=5
        ),
        facts(),
        3,
    )
    assert (vm["extension"], vm["voicemail"], vm["duration"]) == ("104", 5, 3)
    _, blocked = make(
        CallerBlocked(call_id="c1", caller="+1900555", callee="b", reason="blacklist", entry="+1900")
    )
    assert (blocked["reason"], blocked["entry"], blocked["status"]) == ("blacklist", "+1900", "busy")
    kind, login = make(QueueAgentLoggedIn(queue="support", agent="102"))
    assert kind == "agent-login" and (login["extension"], login["queue"], login["call_id"]) == (
        "102",
        "support",
        None,
    )
    kind, state = make(
        QueueAgentStateChanged(queue="support", agent="102", state="ringing", previous="ready")
    )
    assert kind == "agent-state" and (state["state"], state["previous"]) == ("ringing", "ready")
    assert numbers_concerned(state) == {"102"}


def test_statuses_in_the_words_integrators_use():
    given = ("answered", "busy", "blocked", "no_answer", "cancelled", "unavailable", "no_route")
    expected = ["answered", "busy", "busy", "no_answer", "cancelled", "unavailable", "failed"]
    assert [status_of(d) for d in given] == expected
