"""The live side of call queues: who waits, what each agent is doing, and the events about both.

State lives in memory (the daemon is the one place calls are handled); configuration is read from the
database when a caller joins and whenever a queue-changing event arrives. Decisions are the pure ones in
``core.routing.queues``; this module only keeps the books and tells waiting callers to look again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from core.events import (
    DomainEvent,
    QueueAgentStateChanged,
    QueueCallEnded,
    QueueCallerJoined,
    QueueCallerLeft,
)
from core.routing.queues import (
    Activity,
    AgentHistory,
    AgentState,
    Phase,
    QueueInfo,
    agent_state,
    delay_after_unanswered,
    expected_wait,
    pick_agents,
)

logger = logging.getLogger(__name__)

RECENT_WAITS = 20  # answered callers whose wait predicts the next ones'


@dataclass(eq=False)
class Waiter:
    """A caller waiting in a queue. `wake` tells its call flow to look again."""

    call_id: str
    caller: str
    wake: Callable[[], None]
    joined_at: float
    joined_wall: datetime = field(default_factory=lambda: datetime.now(UTC))
    offered: list[str] = field(default_factory=list)  # agents being rung for this caller now


@dataclass
class QueueRuntime:
    """One queue's live state."""

    info: QueueInfo
    activity: dict[str, Activity] = field(default_factory=dict)
    states: dict[str, AgentState] = field(default_factory=dict)
    waiting: list[Waiter] = field(default_factory=list)
    last_offered: str | None = None
    last_answered: str | None = None
    recent_waits: deque[float] = field(default_factory=lambda: deque(maxlen=RECENT_WAITS))
    day: date = field(default_factory=lambda: datetime.now(UTC).date())  # of the strategies' counts

    def position(self, waiter: Waiter) -> int:
        return self.waiting.index(waiter) + 1

    def has_agents_logged_in(self) -> bool:
        return any(a.logged_in for a in self.info.agents)

    def expected_wait(self, waiter: Waiter) -> float | None:
        ready = sum(1 for s in self.states.values() if s is not AgentState.LOGGED_OUT)
        return expected_wait(self.position(waiter), list(self.recent_waits), ready)

    def to_dict(self, now: float) -> dict[str, Any]:
        """JSON shape for the API and console."""
        return {
            "queue": self.info.name,
            "strategy": self.info.strategy.value,
            "agents": [
                {
                    "number": a.number,
                    "remote": a.remote,
                    "state": self.states.get(a.number, AgentState.LOGGED_OUT).value,
                    "calls": self.activity.get(a.number, Activity()).calls,
                    "talk_seconds": round(self.activity.get(a.number, Activity()).talk_seconds, 1),
                }
                for a in self.info.agents
            ],
            "waiting": [
                {
                    "call_id": w.call_id,
                    "caller": w.caller,
                    "position": i + 1,
                    "waited_seconds": round(now - w.joined_at, 1),
                    "state": "ringing" if w.offered else "waiting",
                }
                for i, w in enumerate(self.waiting)
            ],
        }


class QueueBoard:
    """Every queue's live state, and the events about it."""

    def __init__(
        self,
        load: Callable[[str], Awaitable[QueueInfo | None]],
        online: Callable[[str], bool],
        in_calls: Callable[[], set[str]],
        publish: Callable[[DomainEvent], Awaitable[object]],
        clock: Callable[[], float] = time.monotonic,
        history: Callable[[str], Awaitable[dict[str, AgentHistory]]] | None = None,
    ) -> None:
        self._load = load
        self._history = history
        self._online = online
        self._in_calls = in_calls
        self._publish = publish
        self._clock = clock
        self.queues: dict[str, QueueRuntime] = {}
        self._published: asyncio.Future[None] | None = None
        self._timers: dict[tuple[str, str], asyncio.TimerHandle] = {}
        self._reloads: set[asyncio.Task[None]] = set()

    # -- configuration --------------------------------------------------------------------------
    async def open(self, name: str) -> QueueRuntime | None:
        """The queue's runtime with its configuration read afresh (None: there is no such queue)."""
        info = await self._load(name)
        if info is None:
            self.queues.pop(name, None)
            return None
        runtime = self.queues.get(name)
        if runtime is None:
            fresh = QueueRuntime(info)
            await self._remember(fresh)  # before anyone uses it: a caller meanwhile gets the same one
            runtime = self.queues.setdefault(name, fresh)
        runtime.info = info
        self.refresh()
        return runtime

    async def _remember(self, runtime: QueueRuntime) -> None:
        """A queue seen for the first time in this run starts from what its agents did today (the
        persisted queue call log), so the strategies that need history survive a restart."""
        if self._history is None:
            return
        try:
            history = await self._history(runtime.info.name)
        except Exception:
            logger.exception("could not read the history of queue %s", runtime.info.name)
            return
        now, wall = self._clock(), datetime.now(UTC)
        for number, past in history.items():
            ended = past.last_call_end
            runtime.activity[number] = Activity(
                calls=past.calls,
                talk_seconds=past.talk_seconds,
                last_call_end=now - (wall - ended).total_seconds() if ended else None,
            )

    def _new_day(self, runtime: QueueRuntime) -> None:
        """Counts for the strategies are today's: at midnight (UTC) they start again."""
        today = datetime.now(UTC).date()
        if runtime.day != today:
            runtime.day = today
            runtime.activity = {n: replace(a, calls=0, talk_seconds=0.0) for n, a in runtime.activity.items()}

    def reload(self, name: str) -> None:
        """A queue changed (settings, agents, logins): read it again, then let its callers look again.
        A removed queue is forgotten; callers still waiting in it leave at their maximum wait."""

        async def run() -> None:
            try:
                await self.open(name)
            except Exception:
                logger.exception("could not reload queue %s", name)

        task = asyncio.ensure_future(run())
        self._reloads.add(task)
        task.add_done_callback(self._reloads.discard)

    # -- states ---------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Recompute every agent's state, publish the changes, and wake callers if someone is ready."""
        now = self._clock()
        in_calls = self._in_calls() if self.queues else set()
        for runtime in self.queues.values():
            anyone_ready = False
            for agent in runtime.info.agents:
                activity = runtime.activity.get(agent.number, Activity())
                if activity.phase in (Phase.WRAPUP, Phase.DELAYED) and (activity.until or 0) <= now:
                    activity = runtime.activity[agent.number] = replace(
                        activity, phase=Phase.IDLE, until=None
                    )
                state = agent_state(
                    agent, activity, self._online(agent.number), agent.number in in_calls, now
                )
                previous = runtime.states.get(agent.number)
                if state is not previous:
                    runtime.states[agent.number] = state
                    self._emit(
                        QueueAgentStateChanged(
                            queue=runtime.info.name,
                            agent=agent.number,
                            state=state.value,
                            previous=previous.value if previous else None,
                        )
                    )
                anyone_ready |= state is AgentState.READY
            for gone in set(runtime.states) - {a.number for a in runtime.info.agents}:
                del runtime.states[gone]
            if anyone_ready or not runtime.has_agents_logged_in():
                for waiter in runtime.waiting:
                    waiter.wake()

    def _emit(self, event: DomainEvent) -> None:
        """Publish in the background, in order."""
        previous = self._published

        async def chained() -> None:
            if previous is not None:
                with contextlib.suppress(Exception):
                    await previous
            try:
                await self._publish(event)
            except Exception:
                logger.exception("could not publish %s", event.type)

        self._published = asyncio.ensure_future(chained())

    def _rest(self, runtime: QueueRuntime, number: str, phase: Phase, seconds: int) -> None:
        """Let an agent rest (wrap-up or delay) for `seconds`, then look again."""
        activity = runtime.activity.get(number, Activity())
        if seconds <= 0:
            runtime.activity[number] = replace(activity, phase=Phase.IDLE, until=None)
            return
        runtime.activity[number] = replace(activity, phase=phase, until=self._clock() + seconds)
        key = (runtime.info.name, number)
        if key in self._timers:
            self._timers[key].cancel()
        self._timers[key] = asyncio.get_running_loop().call_later(seconds + 0.05, self.refresh)

    # -- callers --------------------------------------------------------------------------------
    def join(self, runtime: QueueRuntime, call_id: str, caller: str, wake: Callable[[], None]) -> Waiter:
        waiter = Waiter(call_id, caller, wake, self._clock())
        runtime.waiting.append(waiter)
        self._emit(
            QueueCallerJoined(
                call_id=call_id, queue=runtime.info.name, caller=caller, position=runtime.position(waiter)
            )
        )
        return waiter

    def leave(self, runtime: QueueRuntime, waiter: Waiter, reason: str, agent: str | None = None) -> None:
        if waiter not in runtime.waiting:
            return
        self.release(runtime, waiter)
        runtime.waiting.remove(waiter)
        waited = self._clock() - waiter.joined_at
        self._emit(
            QueueCallerLeft(
                call_id=waiter.call_id,
                queue=runtime.info.name,
                caller=waiter.caller,
                reason=reason,
                waited_seconds=round(waited, 2),
                agent=agent,
            )
        )
        for other in runtime.waiting:  # everyone behind moved up
            other.wake()

    def offer(self, runtime: QueueRuntime, waiter: Waiter) -> list[str]:
        """The agents to ring for this caller now: none until every caller ahead is being offered."""
        ahead = runtime.waiting[: runtime.waiting.index(waiter)]
        if any(not w.offered for w in ahead):
            return []
        self._new_day(runtime)
        picks = pick_agents(
            runtime.info,
            runtime.states,
            runtime.activity,
            runtime.last_offered,
            runtime.last_answered,
            random.choice,
        )
        for number in picks:
            runtime.activity[number] = replace(runtime.activity.get(number, Activity()), phase=Phase.RINGING)
        if picks:
            waiter.offered = picks
            runtime.last_offered = picks[-1]
            self.refresh()
        return picks

    def unanswered(self, runtime: QueueRuntime, number: str, cause: int | None) -> None:
        """An offered agent did not answer (busy, declined, rang out or unreachable): it rests a while."""
        agent = runtime.info.agent(number)
        if agent is None or runtime.activity.get(number, Activity()).phase is not Phase.RINGING:
            return
        self._rest(runtime, number, Phase.DELAYED, delay_after_unanswered(agent, cause))
        self.refresh()

    def answered(self, runtime: QueueRuntime, waiter: Waiter, number: str) -> None:
        """An agent answered this caller."""
        runtime.activity[number] = replace(runtime.activity.get(number, Activity()), phase=Phase.TALKING)
        waiter.offered = [n for n in waiter.offered if n != number]
        runtime.last_answered = number
        runtime.recent_waits.append(self._clock() - waiter.joined_at)
        self.leave(runtime, waiter, "answered", number)

    def release(self, runtime: QueueRuntime, waiter: Waiter) -> None:
        """The agents offered this caller and still ringing stop being offered (no delay)."""
        for number in waiter.offered:
            activity = runtime.activity.get(number, Activity())
            if activity.phase is Phase.RINGING:
                runtime.activity[number] = replace(activity, phase=Phase.IDLE)
        waiter.offered = []
        self.refresh()

    def finished(self, runtime: QueueRuntime, number: str, talk_seconds: float, call_id: str = "") -> None:
        """A queue call an agent took has ended (or the agent was transferred away): count it, say so, then
        wrap up."""
        activity = runtime.activity.get(number, Activity())
        runtime.activity[number] = replace(
            activity,
            calls=activity.calls + 1,
            talk_seconds=activity.talk_seconds + talk_seconds,
            last_call_end=self._clock(),
        )
        self._emit(
            QueueCallEnded(
                queue=runtime.info.name, agent=number, call_id=call_id, talk_seconds=round(talk_seconds, 3)
            )
        )
        agent = runtime.info.agent(number)
        wrapup = agent.wrapup if agent and agent.wrapup is not None else runtime.info.wrapup
        self._rest(runtime, number, Phase.WRAPUP, wrapup)
        self.refresh()

    async def open_all(self, names: list[str]) -> None:
        """Load every queue (at start), so agents' states are known before the first caller."""
        for name in names:
            await self.open(name)

    def snapshot(self) -> list[dict[str, Any]]:
        """Every queue's agents and waiting callers, for the API."""
        now = self._clock()
        return [self.queues[name].to_dict(now) for name in sorted(self.queues)]

    def close(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
