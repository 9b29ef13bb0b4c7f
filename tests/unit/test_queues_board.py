"""The live side of queues (core/calls/queues.py) on a hand-driven clock: who is offered whom, in what
order, and the agent state events that follow."""

import asyncio

import pytest

from core.calls.queues import QueueBoard
from core.routing.queues import AgentInfo, QueueInfo, QueueStrategy


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def setup():
    clock, published, online, busy = Clock(), [], {"101", "102"}, set()
    info = QueueInfo(
        "support",
        QueueStrategy.TOP_DOWN,
        (AgentInfo("101", delay_no_answer=10), AgentInfo("102")),
        wrapup=5,
    )

    async def load(name):
        return info if name == "support" else None

    async def publish(event):
        published.append(event)

    board = QueueBoard(load, online.__contains__, lambda: set(busy), publish, clock)
    return board, clock, published, online, busy


def states(published, agent):
    return [e.state for e in published if e.type == "QueueAgentStateChanged" and e.agent == agent]


async def settle():
    for _ in range(5):
        await asyncio.sleep(0)


async def test_callers_are_offered_in_order(setup):
    board, clock, published, _, _ = setup
    runtime = await board.open("support")
    woken = []
    first = board.join(runtime, "c1", "+15550000001", lambda: woken.append("c1"))
    second = board.join(runtime, "c2", "+15550000002", lambda: woken.append("c2"))
    assert board.offer(runtime, second) == []  # the first caller is not being offered yet
    assert board.offer(runtime, first) == ["101"]
    assert board.offer(runtime, second) == ["102"]  # now it may: 101 is taken
    board.answered(runtime, first, "101")
    assert [w.call_id for w in runtime.waiting] == ["c2"] and runtime.position(second) == 1
    clock.now += 30
    board.finished(runtime, "101", talk_seconds=30)
    assert runtime.states["101"].value == "wrapup"
    clock.now += 5
    board.refresh()
    assert runtime.states["101"].value == "ready"
    await settle()
    assert states(published, "101") == ["ready", "ringing", "in_queue_call", "wrapup", "ready"]
    joined = [(e.call_id, e.position) for e in published if e.type == "QueueCallerJoined"]
    left = [(e.call_id, e.reason, e.agent) for e in published if e.type == "QueueCallerLeft"]
    assert joined == [("c1", 1), ("c2", 2)] and left == [("c1", "answered", "101")]
    assert runtime.activity["101"].calls == 1 and runtime.activity["101"].talk_seconds == 30


async def test_an_agent_who_does_not_answer_rests_then_is_offered_again(setup):
    board, clock, published, _, _ = setup
    runtime = await board.open("support")
    waiter = board.join(runtime, "c1", "+15550000001", lambda: None)
    assert board.offer(runtime, waiter) == ["101"]
    board.unanswered(runtime, "101", None)  # rang out: 10 s delay
    board.release(runtime, waiter)
    assert board.offer(runtime, waiter) == ["102"]  # the next one meanwhile
    board.unanswered(runtime, "102", 17)  # busy: its delay_busy (10 s by default)
    board.release(runtime, waiter)
    assert board.offer(runtime, waiter) == []
    clock.now += 10
    board.refresh()
    assert board.offer(runtime, waiter) == ["101"]
    await settle()
    assert states(published, "101") == ["ready", "ringing", "delayed", "ready", "ringing"]


async def test_registration_and_calls_elsewhere_change_agent_states(setup):
    board, _, published, online, busy = setup
    runtime = await board.open("support")
    online.discard("102")
    busy.add("101")
    board.refresh()
    assert (runtime.states["101"].value, runtime.states["102"].value) == ("busy_elsewhere", "unregistered")
    waiter = board.join(runtime, "c1", "+15550000001", lambda: None)
    assert board.offer(runtime, waiter) == []
    board.leave(runtime, waiter, "abandoned")
    assert runtime.waiting == []
    await settle()
    assert [e.reason for e in published if e.type == "QueueCallerLeft"] == ["abandoned"]


async def test_waiting_callers_are_woken_when_an_agent_becomes_ready(setup):
    board, _, _, online, _ = setup
    online.clear()
    runtime = await board.open("support")
    woken = []
    board.join(runtime, "c1", "+15550000001", lambda: woken.append("c1"))
    board.refresh()
    assert woken == []
    online.add("102")
    board.refresh()
    assert woken == ["c1"]


async def test_snapshot_for_the_api(setup):
    board, clock, _, _, _ = setup
    runtime = await board.open("support")
    board.join(runtime, "c1", "+15550000001", lambda: None)
    clock.now += 12
    (snapshot,) = board.snapshot()
    assert snapshot["agents"][0] == {
        "number": "101",
        "remote": False,
        "state": "ready",
        "calls": 0,
        "talk_seconds": 0.0,
    }
    assert snapshot["waiting"] == [
        {"call_id": "c1", "caller": "+15550000001", "position": 1, "waited_seconds": 12.0, "state": "waiting"}
    ]
    assert await board.open("nope") is None


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [("fewest_calls", "102"), ("least_talk_time", "101"), ("longest_idle", "102")],
)
async def test_after_a_restart_the_strategies_start_from_todays_history(strategy, expected):
    from datetime import UTC, datetime, timedelta

    from core.routing.queues import AgentHistory

    info = QueueInfo("support", QueueStrategy(strategy), (AgentInfo("101"), AgentInfo("102")))
    wall = datetime.now(UTC)
    history = {  # 101: three short calls, the last just now; 102: one long one, an hour ago
        "101": AgentHistory(3, 90.0, wall - timedelta(seconds=30)),
        "102": AgentHistory(1, 600.0, wall - timedelta(hours=1)),
    }

    async def load(name):
        return info

    async def past(name):
        return history

    async def publish(event):
        pass

    board = QueueBoard(load, {"101", "102"}.__contains__, set, publish, Clock(), history=past)
    runtime = await board.open("support")
    waiter = board.join(runtime, "c1", "+15550000001", lambda: None)
    assert board.offer(runtime, waiter) == [expected]
    assert runtime.activity["101"].calls == 3 and runtime.activity["102"].talk_seconds == 600
