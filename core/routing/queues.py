"""Call queues: which agents are offered the next caller, what state each agent is in, what a waiting
caller hears. Pure: no I/O; times are monotonic seconds passed in.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from core.routing.destinations import Destination, DestinationKind

HANGUP = Destination(DestinationKind.HANGUP)


class QueueStrategy(StrEnum):
    """How a queue chooses the agents it offers a caller to."""

    RING_ALL = "ring_all"  # every ready agent at once; the first to answer takes the call
    LONGEST_IDLE = "longest_idle"  # the agent whose last queue call ended longest ago
    ROUND_ROBIN = "round_robin"  # the agent after the one offered the previous caller
    TOP_DOWN = "top_down"  # always the first ready agent in the list
    LEAST_TALK_TIME = "least_talk_time"  # the agent with the least talk time in queue calls
    FEWEST_CALLS = "fewest_calls"  # the agent who took the fewest queue calls
    SEQUENTIAL = "sequential"  # the agent after the one who answered the previous caller, in list order
    RANDOM = "random"


class AgentState(StrEnum):
    """Where an agent stands, as shown live and sent in events."""

    READY = "ready"
    RINGING = "ringing"  # being offered a queue caller
    IN_QUEUE_CALL = "in_queue_call"
    BUSY_ELSEWHERE = "busy_elsewhere"  # on another call (not from this queue)
    UNREGISTERED = "unregistered"  # a local agent whose phone is not registered
    DELAYED = "delayed"  # resting after being busy, not answering or declining
    WRAPUP = "wrapup"  # resting after a queue call
    PAUSED = "paused"
    LOGGED_OUT = "logged_out"


class Phase(StrEnum):
    """What the queue itself has an agent doing."""

    IDLE = "idle"
    RINGING = "ringing"
    TALKING = "talking"
    WRAPUP = "wrapup"
    DELAYED = "delayed"


@dataclass(frozen=True)
class AgentInfo:
    """An agent's configuration: a local internal number or a remote (E.164, through a trunk) one."""

    number: str
    remote: bool = False
    timeout: int | None = None  # own ring time, else the queue's
    wrapup: int | None = None  # own wrap-up, else the queue's
    delay_busy: int = 10
    delay_no_answer: int = 10
    delay_reject: int = 30
    logged_in: bool = True
    paused: bool = False


@dataclass(frozen=True)
class QueueInfo:
    """A queue's configuration; agents in list order."""

    name: str
    strategy: QueueStrategy
    agents: tuple[AgentInfo, ...]
    agent_timeout: int = 15
    max_wait: int = 300
    overflow: Destination = HANGUP
    wrapup: int = 5
    announce_every: int = 30
    music: str = "default"
    recording: str = "never"

    def agent(self, number: str) -> AgentInfo | None:
        return next((a for a in self.agents if a.number == number), None)


@dataclass(frozen=True)
class Activity:
    """What the queue has seen an agent do (kept in memory by the daemon)."""

    phase: Phase = Phase.IDLE
    until: float | None = None  # end of wrap-up or delay
    calls: int = 0  # queue calls answered
    talk_seconds: float = 0.0
    last_call_end: float | None = None


@dataclass(frozen=True)
class AgentHistory:
    """What an agent did in a queue today (from the persisted queue call log): the strategies that need
    history start from it after a restart."""

    calls: int
    talk_seconds: float
    last_call_end: datetime | None


def agent_state(
    agent: AgentInfo, activity: Activity, online: bool, busy_elsewhere: bool, now: float
) -> AgentState:
    """An agent's state now. `online`: its phone is registered (always True for remote agents)."""
    if not agent.logged_in:
        return AgentState.LOGGED_OUT
    if activity.phase is Phase.RINGING:
        return AgentState.RINGING
    if activity.phase is Phase.TALKING:
        return AgentState.IN_QUEUE_CALL
    resting = activity.until is not None and now < activity.until
    if activity.phase is Phase.WRAPUP and resting:
        return AgentState.WRAPUP
    if activity.phase is Phase.DELAYED and resting:
        return AgentState.DELAYED
    if agent.paused:
        return AgentState.PAUSED
    if not agent.remote and not online:
        return AgentState.UNREGISTERED
    if busy_elsewhere:
        return AgentState.BUSY_ELSEWHERE
    return AgentState.READY


def _after(agents: Sequence[AgentInfo], ready: list[AgentInfo], last: str | None) -> AgentInfo:
    """The first ready agent after `last` in list order, wrapping round."""
    numbers = [a.number for a in agents]
    start = numbers.index(last) + 1 if last in numbers else 0
    order = numbers[start:] + numbers[:start]
    ready_numbers = {a.number for a in ready}
    first = next(n for n in order if n in ready_numbers)
    return next(a for a in ready if a.number == first)


def pick_agents(
    queue: QueueInfo,
    states: Mapping[str, AgentState],
    activity: Mapping[str, Activity],
    last_offered: str | None,
    last_answered: str | None,
    choose: Callable[[list[AgentInfo]], AgentInfo],
) -> list[str]:
    """The agents to offer the next caller to now (none when nobody is ready). Ties go to list order."""
    ready = [a for a in queue.agents if states.get(a.number) is AgentState.READY]
    if not ready:
        return []
    strategy = queue.strategy
    if strategy is QueueStrategy.RING_ALL:
        return [a.number for a in ready]
    idle = Activity()
    if strategy is QueueStrategy.LONGEST_IDLE:
        pick = min(ready, key=lambda a: activity.get(a.number, idle).last_call_end or -math.inf)
    elif strategy is QueueStrategy.ROUND_ROBIN:
        pick = _after(queue.agents, ready, last_offered)
    elif strategy is QueueStrategy.SEQUENTIAL:
        pick = _after(queue.agents, ready, last_answered)
    elif strategy is QueueStrategy.LEAST_TALK_TIME:
        pick = min(ready, key=lambda a: activity.get(a.number, idle).talk_seconds)
    elif strategy is QueueStrategy.FEWEST_CALLS:
        pick = min(ready, key=lambda a: activity.get(a.number, idle).calls)
    elif strategy is QueueStrategy.RANDOM:
        pick = choose(ready)
    else:  # top down
        pick = ready[0]
    return [pick.number]


# Q.850 causes of an offered agent's leg that ended unanswered → which delay applies
_BUSY_CAUSES = {17}
_REJECT_CAUSES = {21}


def delay_after_unanswered(agent: AgentInfo, cause: int | None) -> int:
    """Seconds an agent is not offered callers after a call it did not answer (`cause` None: it rang out)."""
    if cause in _BUSY_CAUSES:
        return agent.delay_busy
    if cause in _REJECT_CAUSES:
        return agent.delay_reject
    return agent.delay_no_answer


def expected_wait(position: int, recent_waits: Sequence[float], ready_agents: int) -> float | None:
    """Seconds a caller at `position` (1 = next) may expect to wait: the average wait of recent answered
    callers times the callers ahead of and including them, shared by the agents that take calls. None
    when nothing is known yet."""
    if not recent_waits:
        return None
    average = sum(recent_waits) / len(recent_waits)
    return average * position / max(ready_agents, 1)


def announcement(position: int, wait: float | None) -> list[str]:
    """What a waiting caller hears periodically: their position, and the expected wait when known."""
    if position <= 1:
        media = ["sound:queue-youarenext"]
    else:
        media = ["sound:queue-thereare", f"number:{position}", "sound:queue-callswaiting"]
    if wait is not None and wait >= 60:
        minutes = math.ceil(wait / 60)
        media += ["sound:queue-holdtime", f"number:{minutes}", "sound:queue-minutes"]
    elif wait is not None:
        media += ["sound:queue-holdtime", "sound:queue-less-than", "number:1", "sound:queue-minute"]
    return media
