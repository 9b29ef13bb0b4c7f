"""Queue statistics that survive a restart: a projection of the event log into a queue call log
(QueueCall: joined, position, answered after W s by agent A, talk time, abandoned after W s, timed out,
left for want of agents) and agent sessions (AgentSession: logged in, paused, wrapping up).

The events are persisted first (core/events/bus.py); the projector reads them back after its checkpoint
and applies them in one transaction with the checkpoint's move, so a daemon killed at any point picks up
where the log says, and nothing is counted twice. It reads events at least `LAG` seconds old (by the
time they were written), so that on PostgreSQL a transaction that commits a lower id after a higher one is
not skipped, provided it commits within `LAG` of writing its row (event transactions take milliseconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from core.events import DomainEvent
from core.models import AgentSession, EventRecord, Projection, QueueCall
from core.routing.queues import AgentHistory

logger = logging.getLogger(__name__)
NAME = "queue_stats"
TYPES = (
    "QueueCallerJoined",
    "QueueCallerLeft",
    "QueueCallEnded",
    "QueueAgentLoggedIn",
    "QueueAgentLoggedOut",
    "QueueAgentPaused",
    "QueueAgentStateChanged",
)
LAG = 0.5  # seconds
BATCH = 500
# the daemon's projector and a statistics request may both catch up: one at a time (a lock per loop)
_LOCKS: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}


def _one_at_a_time() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    if loop not in _LOCKS:
        for gone in [other for other in _LOCKS if other.is_closed()]:
            del _LOCKS[gone]
        _LOCKS[loop] = asyncio.Lock()
    return _LOCKS[loop]


def _at(payload: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(payload["at"])


async def _open(queue: str, agent: str, kind: str) -> AgentSession | None:
    return (
        await AgentSession.filter(queue=queue, agent=agent, kind=kind, ended_at=None).order_by("-id").first()
    )


async def _start(queue: str, agent: str, kind: str, at: datetime) -> None:
    if await _open(queue, agent, kind) is None:
        await AgentSession.create(queue=queue, agent=agent, kind=kind, started_at=at)


async def _stop(queue: str, agent: str, kinds: tuple[str, ...], at: datetime) -> None:
    await AgentSession.filter(queue=queue, agent=agent, kind__in=list(kinds), ended_at=None).update(
        ended_at=at
    )


async def apply(row: EventRecord) -> None:
    """Apply one queue event to the call log and the sessions."""
    data, kind = row.payload, row.type
    at, queue = _at(data), data.get("queue", "")
    if kind == "QueueCallerJoined":
        if not await QueueCall.exists(join_event_id=row.id):
            await QueueCall.create(
                queue=queue,
                call_id=data["call_id"],
                caller=data.get("caller", ""),
                join_event_id=row.id,
                joined_at=at,
                position=data.get("position", 1),
            )
    elif kind == "QueueCallerLeft":
        stay = (
            await QueueCall.filter(queue=queue, call_id=data["call_id"], outcome="waiting")
            .order_by("-id")
            .first()
        )
        if stay is not None:
            stay.outcome, stay.left_at = data["reason"][:12], at
            stay.waited_seconds, stay.agent = float(data.get("waited_seconds") or 0), data.get("agent")
            await stay.save(update_fields=["outcome", "left_at", "waited_seconds", "agent"])
    elif kind == "QueueCallEnded":
        stay = (
            await QueueCall.filter(queue=queue, call_id=data["call_id"], agent=data["agent"], ended_at=None)
            .order_by("-id")
            .first()
        )
        if stay is not None:
            stay.talk_seconds, stay.ended_at = float(data["talk_seconds"]), at
            await stay.save(update_fields=["talk_seconds", "ended_at"])
    elif kind == "QueueAgentLoggedIn":
        await _start(queue, data["agent"], "login", at)
    elif kind == "QueueAgentLoggedOut":
        await _stop(queue, data["agent"], ("login", "pause", "wrapup"), at)
    elif kind == "QueueAgentPaused":
        if data.get("paused"):
            await _start(queue, data["agent"], "pause", at)
        else:
            await _stop(queue, data["agent"], ("pause",), at)
    elif kind == "QueueAgentStateChanged":
        if data.get("state") == "wrapup":
            await _start(queue, data["agent"], "wrapup", at)
        else:  # any other state ends a wrap-up (one left open by a daemon that stopped, too)
            await _stop(queue, data["agent"], ("wrapup",), at)


class QueueStatsProjector:
    """Keeps QueueCall and AgentSession up with the event log."""

    def __init__(self, lag: float = LAG) -> None:
        self.lag = lag
        self._wake = asyncio.Event()

    def on_event(self, event: DomainEvent) -> None:
        """A bus handler: a queue event was persisted; look soon."""
        if event.type in TYPES:
            self._wake.set()

    async def catch_up(self, lag: float | None = None) -> int:
        return await catch_up(self.lag if lag is None else lag)

    async def run(self) -> None:
        """Catch up now and whenever queue events come (at most `lag` later), until cancelled."""
        while True:
            self._wake.clear()
            try:
                await self.catch_up()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("queue statistics: could not apply the event log; trying again")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5.0):
                    await self._wake.wait()
            await asyncio.sleep(self.lag)  # the events that woke us are old enough now


async def catch_up(lag: float = LAG) -> int:
    """Apply every queue event after the checkpoint (and at least `lag` s old); returns how many."""
    applied = 0
    async with _one_at_a_time():
        while True:
            point, _ = await Projection.get_or_create(name=NAME)
            settled = datetime.now(UTC) - timedelta(seconds=lag)
            rows = (
                await EventRecord.filter(
                    id__gt=point.last_event_id, type__in=list(TYPES), created_at__lte=settled
                )
                .order_by("id")
                .limit(BATCH)
            )
            if not rows:
                return applied
            async with in_transaction():
                for row in rows:
                    await apply(row)
                point.last_event_id = rows[-1].id
                await point.save(update_fields=["last_event_id"])
            applied += len(rows)


async def agent_history(queue: str, since: datetime) -> dict[str, AgentHistory]:
    """Each agent's queue calls since `since`: how many, their talk time, when the last one ended."""
    found: dict[str, AgentHistory] = {}
    for stay in await QueueCall.filter(queue=queue, outcome="answered", joined_at__gte=since).order_by("id"):
        if not stay.agent:
            continue
        before = found.get(stay.agent, AgentHistory(0, 0.0, None))
        end = stay.ended_at or stay.left_at
        last = max((t for t in (before.last_call_end, end) if t is not None), default=None)
        found[stay.agent] = AgentHistory(before.calls + 1, before.talk_seconds + stay.talk_seconds, last)
    return found
