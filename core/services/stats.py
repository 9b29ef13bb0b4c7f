"""Statistics for managers and operators: per queue (offered, answered, abandoned — short abandons apart —
waits, average speed of answer, service level), per agent (calls, talk, login and pause time), per internal
number and per group (answered, missed, average talk). Figures are computed from the persisted queue call
log and call records, so a restart changes nothing. The arithmetic is pure (`queue_figures`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from tortoise.expressions import Q

from core.config import StatsSettings
from core.errors import InvalidInput, NotFound
from core.models import AgentSession, Call, MissedCall, Queue, QueueCall
from core.services.auth import Actor, AuthService
from core.services.missed import parse_since
from core.services.queue_stats import catch_up
from core.services.scoping import in_scope


class Stay(Protocol):
    """A queue call as the figures read it (QueueCall)."""

    outcome: str
    waited_seconds: float
    agent: str | None
    talk_seconds: float


class Span(Protocol):
    """An agent session as the figures read it (AgentSession)."""

    agent: str
    kind: str
    started_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True)
class AgentFigures:
    agent: str
    calls: int
    talk_seconds: float
    average_talk: float
    login_seconds: float
    pause_seconds: float
    wrapup_seconds: float


@dataclass(frozen=True)
class QueueFigures:
    queue: str
    offered: int
    answered: int
    abandoned: int
    short_abandoned: int  # abandoned within the short-abandon threshold (left out of the adjusted rate)
    timed_out: int  # waited the queue's maximum, then sent to its overflow
    no_agents: int  # left because no agent was logged in (overflow too)
    redirected: int  # sent elsewhere by an operator
    waiting: int  # in the queue now (not in the other figures)
    abandon_rate: float
    abandon_rate_adjusted: float
    average_wait: float
    longest_wait: float
    average_speed_of_answer: float
    service_level_seconds: int
    service_level: float  # answered within T s / offered
    service_level_of_answered: float  # answered within T s / answered
    agents: list[AgentFigures]


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _mean(values: Sequence[float]) -> float:
    return round(sum(values) / len(values), 2) if values else 0.0


def overlap(span: Span, start: datetime, end: datetime) -> float:
    """Seconds of `span` within [start, end) (an open span lasts until `end`)."""
    stop = min(span.ended_at or end, end)
    return max(0.0, (stop - max(span.started_at, start)).total_seconds())


def queue_figures(
    queue: str,
    stays: Iterable[Stay],
    sessions: Iterable[Span],
    start: datetime,
    end: datetime,
    service_level_seconds: int,
    short_abandon_seconds: float,
) -> QueueFigures:
    """The figures of one queue over [start, end): `stays` joined in it then, `sessions` overlapping it."""
    stays = list(stays)
    done = [s for s in stays if s.outcome != "waiting"]
    by = {o: [s for s in done if s.outcome == o] for o in ("answered", "abandoned", "timeout", "no_agents")}
    answered, abandoned = by["answered"], by["abandoned"]
    short = sum(1 for s in abandoned if s.waited_seconds < short_abandon_seconds)
    within = sum(1 for s in answered if s.waited_seconds <= service_level_seconds)
    agents: dict[str, dict[str, float]] = {}
    for stay in answered:
        if stay.agent:
            mine = agents.setdefault(stay.agent, {})
            mine["calls"] = mine.get("calls", 0) + 1
            mine["talk"] = mine.get("talk", 0.0) + stay.talk_seconds
    for span in sessions:
        mine = agents.setdefault(span.agent, {})
        mine[span.kind] = mine.get(span.kind, 0.0) + overlap(span, start, end)
    return QueueFigures(
        queue=queue,
        offered=len(done),
        answered=len(answered),
        abandoned=len(abandoned),
        short_abandoned=short,
        timed_out=len(by["timeout"]),
        no_agents=len(by["no_agents"]),
        redirected=sum(1 for s in done if s.outcome == "redirected"),
        waiting=sum(1 for s in stays if s.outcome == "waiting"),
        abandon_rate=_ratio(len(abandoned), len(done)),
        abandon_rate_adjusted=_ratio(len(abandoned) - short, len(done) - short),
        average_wait=_mean([s.waited_seconds for s in done]),
        longest_wait=round(max((s.waited_seconds for s in done), default=0.0), 2),
        average_speed_of_answer=_mean([s.waited_seconds for s in answered]),
        service_level_seconds=service_level_seconds,
        service_level=_ratio(within, len(done)),
        service_level_of_answered=_ratio(within, len(answered)),
        agents=[
            AgentFigures(
                agent=number,
                calls=int(f.get("calls", 0)),
                talk_seconds=round(f.get("talk", 0.0), 2),
                average_talk=round(f.get("talk", 0.0) / f["calls"], 2) if f.get("calls") else 0.0,
                login_seconds=round(f.get("login", 0.0), 1),
                pause_seconds=round(f.get("pause", 0.0), 1),
                wrapup_seconds=round(f.get("wrapup", 0.0), 1),
            )
            for number, f in sorted(agents.items())
        ],
    )


def period(since: str | None, until: str | None, now: datetime | None = None) -> tuple[datetime, datetime]:
    """[from, to): `--from` (default today's midnight, UTC) and `--to` (default now), in the forms
    `pbx missed --since` takes."""
    now = now or datetime.now(UTC)
    start = parse_since(since or "today", now) or now
    end = parse_since(until, now) if until else now
    assert end is not None
    if until and len(until.strip()) == 10 and until.strip()[4] == "-":  # a date: to its end
        end += timedelta(days=1)
    if end <= start:
        raise InvalidInput(
            f"the period must end after it starts ({start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M})"
        )
    return start, end


class StatsService:
    """Statistics per queue, agent, internal number and group, authorised and scoped."""

    def __init__(self, auth: AuthService, settings: StatsSettings) -> None:
        self._auth = auth
        self._settings = settings

    async def queues(
        self, actor: Actor, queue: str | None = None, since: str | None = None, until: str | None = None
    ) -> list[dict[str, Any]]:
        """Each queue's figures over the period (one queue with `queue`); a scoped user sees the agent
        rows of its own numbers only."""
        await self._auth.authorize(actor, "queues.read", "stats:queues")
        start, end = period(since, until)
        await catch_up()  # what the projector has not applied yet (but half a second ago)
        names = [q.name for q in await Queue.all().order_by("name")]
        if queue is not None:
            wanted = queue.strip().lower()
            if wanted not in names:
                raise NotFound(f"queue {wanted} does not exist (see pbx queue list)")
            names = [wanted]
        numbers = await in_scope(self._auth, actor)
        out = []
        for name in names:
            stays = list(await QueueCall.filter(queue=name, joined_at__gte=start, joined_at__lt=end))
            # open sessions too (NULL ended_at: a NOT (ended_at < start) would leave them out)
            sessions = await AgentSession.filter(
                Q(ended_at=None) | Q(ended_at__gte=start), queue=name, started_at__lt=end
            )
            figures = queue_figures(
                name,
                stays,
                sessions,
                start,
                min(end, datetime.now(UTC)),
                self._settings.service_level_seconds,
                self._settings.short_abandon_seconds,
            )
            data = asdict(figures)
            if numbers is not None:
                data["agents"] = [a for a in data["agents"] if a["agent"] in numbers]
            out.append(data | {"from": start.isoformat(), "to": end.isoformat()})
        return out

    async def numbers(
        self, actor: Actor, since: str | None = None, until: str | None = None
    ) -> list[dict[str, Any]]:
        """Per internal number: calls it answered, its missed calls, its average talk."""
        await self._auth.authorize(actor, "calls.read", "stats:numbers")
        start, end = period(since, until)
        numbers = await in_scope(self._auth, actor)
        found: dict[str, dict[str, float]] = {}
        for call in await Call.filter(started_at__gte=start, started_at__lt=end).exclude(answered_by=""):
            mine = found.setdefault(call.answered_by, {})
            mine["answered"] = mine.get("answered", 0) + 1
            mine["talk"] = mine.get("talk", 0.0) + call.talk_seconds
        for missed in await MissedCall.filter(at__gte=start, at__lt=end):
            for number in missed.numbers:
                mine = found.setdefault(number, {})
                mine["missed"] = mine.get("missed", 0) + 1
        return [
            {
                "number": number,
                "answered": int(f.get("answered", 0)),
                "missed": int(f.get("missed", 0)),
                "average_talk": round(f.get("talk", 0.0) / f["answered"], 2) if f.get("answered") else 0.0,
                "from": start.isoformat(),
                "to": end.isoformat(),
            }
            for number, f in sorted(found.items())
            if numbers is None or number in numbers
        ]

    async def groups(
        self, actor: Actor, since: str | None = None, until: str | None = None
    ) -> list[dict[str, Any]]:
        """Per group (calls that ended there): offered, answered, missed, average talk."""
        await self._auth.authorize(actor, "groups.read", "stats:groups")
        start, end = period(since, until)
        found: dict[str, dict[str, float]] = {}
        for call in await Call.filter(started_at__gte=start, started_at__lt=end, place__startswith="group:"):
            mine = found.setdefault(call.place.removeprefix("group:"), {})
            mine["offered"] = mine.get("offered", 0) + 1
            if call.outcome == "answered":
                mine["answered"] = mine.get("answered", 0) + 1
                mine["talk"] = mine.get("talk", 0.0) + call.talk_seconds
        for missed in await MissedCall.filter(at__gte=start, at__lt=end, ended__startswith="group:"):
            mine = found.setdefault(missed.ended.removeprefix("group:"), {})
            mine["missed"] = mine.get("missed", 0) + 1
        group = actor.scope.name if actor.scope.kind.value == "group" else None
        return [
            {
                "group": name,
                "offered": int(f.get("offered", 0)),
                "answered": int(f.get("answered", 0)),
                "missed": int(f.get("missed", 0)),
                "average_talk": round(f.get("talk", 0.0) / f["answered"], 2) if f.get("answered") else 0.0,
                "from": start.isoformat(),
                "to": end.isoformat(),
            }
            for name, f in sorted(found.items())
            if actor.scope.whole_organisation or name == group
        ]
