"""Table tests for queues (core/routing/queues.py): agent states, strategies, delays, announcements."""

import random

import pytest

from core.routing.queues import (
    Activity,
    AgentInfo,
    AgentState,
    Phase,
    QueueInfo,
    QueueStrategy,
    agent_state,
    announcement,
    delay_after_unanswered,
    expected_wait,
    pick_agents,
)

LOCAL = AgentInfo("101")
REMOTE = AgentInfo("+15557654321", remote=True)


@pytest.mark.parametrize(
    ("agent", "activity", "online", "busy", "expected"),
    [
        (LOCAL, Activity(), True, False, AgentState.READY),
        (AgentInfo("101", logged_in=False), Activity(phase=Phase.TALKING), True, True, AgentState.LOGGED_OUT),
        (LOCAL, Activity(phase=Phase.RINGING), True, False, AgentState.RINGING),
        (LOCAL, Activity(phase=Phase.TALKING), True, True, AgentState.IN_QUEUE_CALL),
        (LOCAL, Activity(phase=Phase.WRAPUP, until=110.0), True, False, AgentState.WRAPUP),
        (LOCAL, Activity(phase=Phase.WRAPUP, until=90.0), True, False, AgentState.READY),  # wrap-up over
        (LOCAL, Activity(phase=Phase.DELAYED, until=110.0), True, False, AgentState.DELAYED),
        (AgentInfo("101", paused=True), Activity(), True, False, AgentState.PAUSED),
        (LOCAL, Activity(), False, False, AgentState.UNREGISTERED),
        (REMOTE, Activity(), False, False, AgentState.READY),  # remote agents have no registration
        (LOCAL, Activity(), True, True, AgentState.BUSY_ELSEWHERE),
        (REMOTE, Activity(), False, True, AgentState.BUSY_ELSEWHERE),
    ],
)
def test_agent_state(agent, activity, online, busy, expected):
    assert agent_state(agent, activity, online, busy, now=100.0) is expected


AGENTS = tuple(AgentInfo(n) for n in ("101", "102", "103", "104"))


def queue(strategy):
    return QueueInfo("support", QueueStrategy(strategy), AGENTS)


def ready(*numbers):
    return {a.number: AgentState.READY if a.number in numbers else AgentState.IN_QUEUE_CALL for a in AGENTS}


ALL = ready("101", "102", "103", "104")
STATS = {
    "101": Activity(calls=5, talk_seconds=300, last_call_end=50.0),
    "102": Activity(calls=1, talk_seconds=900, last_call_end=10.0),
    "103": Activity(calls=3, talk_seconds=100, last_call_end=80.0),
    "104": Activity(calls=2, talk_seconds=200, last_call_end=None),  # never had a queue call
}


@pytest.mark.parametrize(
    ("strategy", "states", "last_offered", "last_answered", "expected"),
    [
        ("ring_all", ALL, None, None, ["101", "102", "103", "104"]),
        ("ring_all", ready("102", "104"), None, None, ["102", "104"]),
        ("top_down", ALL, "103", "103", ["101"]),
        ("top_down", ready("103", "104"), None, None, ["103"]),
        ("longest_idle", ALL, None, None, ["104"]),  # never called beats everyone
        ("longest_idle", ready("101", "102", "103"), None, None, ["102"]),
        ("round_robin", ALL, "102", None, ["103"]),
        ("round_robin", ALL, "104", None, ["101"]),  # wraps round
        ("round_robin", ready("101", "102"), "102", None, ["101"]),  # skips who is not ready
        ("round_robin", ALL, None, None, ["101"]),
        ("sequential", ALL, "104", "102", ["103"]),  # after the one who answered, not who was offered
        ("least_talk_time", ALL, None, None, ["103"]),
        ("fewest_calls", ALL, None, None, ["102"]),
        ("fewest_calls", ready("101", "103"), None, None, ["103"]),
        ("top_down", ready(), None, None, []),
    ],
)
def test_pick_agents(strategy, states, last_offered, last_answered, expected):
    assert pick_agents(queue(strategy), states, STATS, last_offered, last_answered, random.choice) == expected


def test_random_strategy_uses_the_chooser_among_ready_agents():
    seen = []

    def choose(agents):
        seen.extend(a.number for a in agents)
        return agents[-1]

    assert pick_agents(queue("random"), ready("102", "103"), STATS, None, None, choose) == ["103"]
    assert seen == ["102", "103"]


def test_ties_go_to_list_order():
    assert pick_agents(queue("fewest_calls"), ALL, {}, None, None, random.choice) == ["101"]


@pytest.mark.parametrize(
    ("cause", "delay"),
    [(17, 7), (21, 30), (19, None), (18, None), (None, None), (20, None)],
)
def test_delay_after_unanswered(cause, delay):
    agent = AgentInfo("101", delay_busy=7, delay_no_answer=12, delay_reject=30)
    assert delay_after_unanswered(agent, cause) == (delay if delay is not None else 12)


def test_expected_wait():
    assert expected_wait(1, [], 2) is None
    assert expected_wait(3, [20.0, 40.0], 2) == 45.0  # 30 s average, 3 in line, 2 agents
    assert expected_wait(2, [30.0], 0) == 60.0  # nobody ready: as if one


@pytest.mark.parametrize(
    ("position", "wait", "media"),
    [
        (1, None, ["sound:queue-youarenext"]),
        (3, None, ["sound:queue-thereare", "number:3", "sound:queue-callswaiting"]),
        (
            2,
            150.0,
            [
                "sound:queue-thereare",
                "number:2",
                "sound:queue-callswaiting",
                "sound:queue-holdtime",
                "number:3",
                "sound:queue-minutes",
            ],
        ),
        (
            1,
            20.0,
            [
                "sound:queue-youarenext",
                "sound:queue-holdtime",
                "sound:queue-less-than",
                "number:1",
                "sound:queue-minute",
            ],
        ),
    ],
)
def test_announcement(position, wait, media):
    assert announcement(position, wait) == media
