"""Queue statistics: the figures from a queue call log (hand-computed), the projection of the event log
(applied once, resumed after a restart), and the strategies' history after a restart."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core.events import (
    EventBus,
    QueueAgentLoggedIn,
    QueueAgentLoggedOut,
    QueueAgentPaused,
    QueueAgentStateChanged,
    QueueCallEnded,
    QueueCallerJoined,
    QueueCallerLeft,
)
from core.models import AgentSession, Projection, QueueCall
from core.services.queue_stats import agent_history, catch_up
from core.services.stats import overlap, queue_figures

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@dataclass
class StayRow:
    outcome: str
    waited_seconds: float
    agent: str | None = None
    talk_seconds: float = 0.0


@dataclass
class SpanRow:
    agent: str
    kind: str
    started_at: datetime
    ended_at: datetime | None


def test_the_figures_match_the_hand_computed_ones():
    stays = [
        StayRow("answered", 4, "102", 60),  # fast
        StayRow("answered", 35, "103", 30),  # slow: beyond the 20 s service level
        StayRow("answered", 12, "102", 90),
        StayRow("abandoned", 2),  # short (< 5 s)
        StayRow("abandoned", 40),
        StayRow("timeout", 300),
        StayRow("waiting", 3),  # still in the queue: in no figure but `waiting`
    ]
    sessions = [
        SpanRow("102", "login", T0 - timedelta(hours=1), None),  # logged in before the period, still in
        SpanRow("102", "pause", T0 + timedelta(minutes=10), T0 + timedelta(minutes=25)),
        SpanRow("103", "login", T0 + timedelta(minutes=30), T0 + timedelta(minutes=45)),
    ]
    f = queue_figures("support", stays, sessions, T0, T0 + timedelta(hours=1), 20, 5)
    assert (f.offered, f.answered, f.abandoned, f.short_abandoned, f.timed_out, f.waiting) == (
        6,
        3,
        2,
        1,
        1,
        1,
    )
    assert f.abandon_rate == round(2 / 6, 4) and f.abandon_rate_adjusted == round(1 / 5, 4)
    assert f.average_wait == round((4 + 35 + 12 + 2 + 40 + 300) / 6, 2) and f.longest_wait == 300
    assert f.average_speed_of_answer == round((4 + 35 + 12) / 3, 2)
    assert f.service_level == round(2 / 6, 4) and f.service_level_of_answered == round(2 / 3, 4)
    agents = {a.agent: a for a in f.agents}
    assert (agents["102"].calls, agents["102"].talk_seconds, agents["102"].average_talk) == (2, 150, 75)
    assert (agents["102"].login_seconds, agents["102"].pause_seconds) == (3600, 900)
    assert (agents["103"].calls, agents["103"].login_seconds) == (1, 900)


def test_a_span_counts_only_within_the_period():
    span = SpanRow("102", "login", T0 - timedelta(hours=2), T0 + timedelta(minutes=5))
    assert overlap(span, T0, T0 + timedelta(hours=1)) == 300
    assert overlap(span, T0 + timedelta(hours=1), T0 + timedelta(hours=2)) == 0


async def test_the_event_log_becomes_the_queue_call_log_once_and_resumes(db):
    bus = EventBus()
    now = datetime.now(UTC) - timedelta(minutes=5)

    def at(seconds):
        return now + timedelta(seconds=seconds)

    for event in (
        QueueAgentLoggedIn(queue="support", agent="102", at=at(0)),
        QueueCallerJoined(call_id="c1", queue="support", caller="+1555", position=1, at=at(10)),
        QueueAgentStateChanged(queue="support", agent="102", state="in_queue_call", at=at(14)),
        QueueCallerLeft(
            call_id="c1",
            queue="support",
            caller="+1555",
            reason="answered",
            waited_seconds=4,
            agent="102",
            at=at(14),
        ),
    ):
        await bus.publish(event)
    assert await catch_up(lag=0) == 4
    assert await catch_up(lag=0) == 0  # nothing twice
    for event in (  # more after a "restart": the projection goes on from its checkpoint
        QueueCallEnded(queue="support", agent="102", call_id="c1", talk_seconds=61.5, at=at(75)),
        QueueAgentStateChanged(queue="support", agent="102", state="wrapup", at=at(75)),
        QueueAgentStateChanged(queue="support", agent="102", state="ready", at=at(80)),
        QueueCallerJoined(call_id="c2", queue="support", caller="+1666", position=1, at=at(90)),
        QueueCallerLeft(
            call_id="c2", queue="support", caller="+1666", reason="abandoned", waited_seconds=7, at=at(97)
        ),
        QueueAgentPaused(queue="support", agent="102", paused=True, at=at(100)),
        QueueAgentPaused(queue="support", agent="102", paused=False, at=at(130)),
        QueueAgentLoggedOut(queue="support", agent="102", at=at(200)),
    ):
        await bus.publish(event)
    assert await catch_up(lag=0) == 8
    stays = await QueueCall.all().order_by("id")
    assert [(s.call_id, s.outcome, s.waited_seconds, s.agent, s.talk_seconds) for s in stays] == [
        ("c1", "answered", 4, "102", 61.5),
        ("c2", "abandoned", 7, None, 0),
    ]
    spans = {(s.kind, (s.ended_at - s.started_at).total_seconds()) for s in await AgentSession.all()}
    assert spans == {("login", 200), ("wrapup", 5), ("pause", 30)}
    assert (await Projection.get(name="queue_stats")).last_event_id > 0
    history = await agent_history("support", now - timedelta(hours=1))
    assert (history["102"].calls, history["102"].talk_seconds) == (1, 61.5)
    assert history["102"].last_call_end == at(75)
