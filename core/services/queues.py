"""Call queues and their agents: settings, agents (local or remote), login, logout and pause."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core.errors import Conflict, InvalidInput, NotFound
from core.events import (
    DomainEvent,
    EventBus,
    QueueAgentLoggedIn,
    QueueAgentLoggedOut,
    QueueAgentPaused,
    QueueChanged,
)
from core.models import Extension, Queue, QueueAgent, Trunk
from core.routing.destinations import DestinationKind, InvalidDestination, normalise_e164
from core.routing.queues import QueueStrategy
from core.services.auth import Actor, AuthService
from core.services.extensions import validate_number
from core.services.scoping import authorize_org, in_scope
from core.services.validation import (
    ensure_number_free,
    given,
    names_itself,
    refuse_if_used,
    routable_destination,
)

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
MOH_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


@dataclass(frozen=True)
class AgentView:
    """An agent as configured (its live state comes from the daemon)."""

    number: str
    remote: bool
    timeout: int | None
    wrapup: int | None
    delay_busy: int
    delay_no_answer: int
    delay_reject: int
    logged_in: bool
    paused: bool


@dataclass(frozen=True)
class QueueView:
    """A queue as shown to users."""

    name: str
    number: str | None
    strategy: str
    agent_timeout: int
    max_wait: int
    overflow: str
    wrapup: int
    announce_every: int
    music: str
    recording: str
    agents: list[AgentView]


def _name(name: str) -> str:
    name = given(name, "queue name", "support").lower()
    if not NAME_RE.fullmatch(name):
        raise InvalidInput("queue name must be letters, digits, - or _ (at most 32), e.g. support")
    return name


def _strategy(text: str) -> QueueStrategy:
    try:
        return QueueStrategy(text.strip().lower().replace("-", "_"))
    except ValueError:
        choices = ", ".join(s.value for s in QueueStrategy)
        raise InvalidInput(f"unknown queue strategy {text!r}: use one of {choices}") from None


def _seconds(value: int | None, what: str, low: int, high: int) -> int | None:
    if value is not None and not low <= value <= high:
        raise InvalidInput(f"{what} must be between {low} and {high} seconds")
    return value


class QueueService:
    """Create and change queues (queues.write, organisation-wide) and control their agents (agents.control,
    within the actor's scope). What routing reads of them is core/services/internal/config.py."""

    def __init__(self, auth: AuthService, bus: EventBus, country: str = "US") -> None:
        self._auth = auth
        self._bus = bus
        self._country = country  # how national numbers of remote agents are read

    async def queues(self, actor: Actor) -> list[QueueView]:
        """All queues, by name, with their agents in order: of the agents, those the actor's scope covers."""
        await self._auth.authorize(actor, "queues.read")
        numbers = await in_scope(self._auth, actor)
        return [await self._view(q, numbers) for q in await Queue.all().order_by("name")]

    async def save(
        self,
        actor: Actor,
        name: str,
        *,
        number: str | None = None,
        strategy: str | None = None,
        agent_timeout: int | None = None,
        max_wait: int | None = None,
        overflow: str | None = None,
        wrapup: int | None = None,
        announce_every: int | None = None,
        music: str | None = None,
    ) -> QueueView:
        """Create a queue or change the given settings (agents are kept). `number` "" takes its internal
        number away."""
        name = _name(name)
        changes: dict[str, object] = {}
        if number is not None:
            changes["number"] = validate_number(number) if number else None
        if strategy is not None:
            changes["strategy"] = _strategy(strategy).value
        for key, value, low, high in (
            ("agent_timeout", agent_timeout, 1, 300),
            ("max_wait", max_wait, 5, 7200),
            ("wrapup", wrapup, 0, 600),
            ("announce_every", announce_every, 0, 600),
        ):
            if _seconds(value, key.replace("_", " "), low, high) is not None:
                changes[key] = value
        if overflow is not None:
            if names_itself(overflow, DestinationKind.QUEUE, name):
                raise InvalidInput(f"queue {name} cannot overflow to itself")
            changes["overflow"] = str(await routable_destination(overflow, self._country))
        if music is not None:
            if not MOH_RE.fullmatch(music):
                raise InvalidInput(f"music on hold class {music!r}: letters, digits, - or _, e.g. default")
            changes["music"] = music
        if changes.get("number"):
            await ensure_number_free(str(changes["number"]), keep=f"queue:{name}")
        await authorize_org(self._auth, actor, "queues.write", f"queue:{name}")
        async with in_transaction():
            queue, created = await Queue.get_or_create(name=name, defaults=changes)
            before = None if created else {k: str(getattr(queue, k)) for k in changes}
            if not created:
                await queue.update_from_dict(changes).save()
            after = {k: str(v) for k, v in changes.items()}
            audited: dict[str, object] = after | {"before": before, "after": after}
            await self._auth.audit(actor, "queue.add" if created else "queue.update", name, audited)
        await self._bus.publish(QueueChanged(queue=name))
        return await self._view(queue)

    async def remove(self, actor: Actor, name: str) -> None:
        """Delete a queue and its agents."""
        name = _name(name)
        await authorize_org(self._auth, actor, "queues.write", f"queue:{name}")
        queue = await self._queue(name)
        await refuse_if_used(f"queue {name}", {f"queue:{name}"})
        async with in_transaction():
            await queue.delete()
            await self._auth.audit(actor, "queue.remove", name)
        await self._bus.publish(QueueChanged(queue=name, removed=True))

    async def add_agent(
        self,
        actor: Actor,
        name: str,
        number: str,
        *,
        timeout: int | None = None,
        wrapup: int | None = None,
        delay_busy: int = 10,
        delay_no_answer: int = 10,
        delay_reject: int = 30,
    ) -> AgentView:
        """Add an agent, logged in, at the end of the list: an internal number, or an outside number in
        E.164 (a remote agent, called through the trunk)."""
        name = _name(name)
        number, remote = await _agent_number(number, self._country)
        _seconds(timeout, "agent timeout", 1, 300)
        _seconds(wrapup, "wrap-up", 0, 600)
        for what, value in (("busy", delay_busy), ("no answer", delay_no_answer), ("reject", delay_reject)):
            _seconds(value, f"delay after {what}", 0, 600)
        await authorize_org(self._auth, actor, "queues.write", f"queue:{name}")
        queue = await self._queue(name)
        last = await QueueAgent.filter(queue=queue).order_by("-position").first()
        try:
            async with in_transaction():
                agent = await QueueAgent.create(
                    queue=queue,
                    number=number,
                    remote=remote,
                    position=last.position + 1 if last else 0,
                    timeout=timeout,
                    wrapup=wrapup,
                    delay_busy=delay_busy,
                    delay_no_answer=delay_no_answer,
                    delay_reject=delay_reject,
                )
                await self._auth.audit(actor, "queue.agent.add", f"queue:{name}", {"agent": number})
        except IntegrityError:
            raise Conflict(f"{number} is already an agent of queue {name}") from None
        await self._bus.publish(QueueAgentLoggedIn(queue=name, agent=number))
        return _agent_view(agent)

    async def remove_agent(self, actor: Actor, name: str, number: str) -> None:
        """Take an agent out of a queue."""
        name = _name(name)
        await authorize_org(self._auth, actor, "queues.write", f"queue:{name}")
        agent = await self._agent(name, number)
        async with in_transaction():
            await agent.delete()
            await self._auth.audit(actor, "queue.agent.remove", f"queue:{name}", {"agent": agent.number})
        await self._bus.publish(QueueAgentLoggedOut(queue=name, agent=agent.number))

    async def login(self, actor: Actor, name: str, number: str, logged_in: bool = True) -> AgentView:
        """Log an agent in to (or out of) a queue."""
        action = "queue.agent.login" if logged_in else "queue.agent.logout"
        event = QueueAgentLoggedIn if logged_in else QueueAgentLoggedOut
        return await self._agent_switch(
            actor, name, number, "logged_in", logged_in, action, lambda q, a: event(queue=q, agent=a)
        )

    async def pause(self, actor: Actor, name: str, number: str, paused: bool = True) -> AgentView:
        """Pause an agent (no calls offered, still logged in), or resume."""
        action = "queue.agent.pause" if paused else "queue.agent.resume"
        return await self._agent_switch(
            actor,
            name,
            number,
            "paused",
            paused,
            action,
            lambda q, a: QueueAgentPaused(queue=q, agent=a, paused=paused),
        )

    async def _agent_switch(
        self,
        actor: Actor,
        name: str,
        number: str,
        field: str,
        value: bool,
        action: str,
        event: Callable[[str, str], DomainEvent],
    ) -> AgentView:
        """Turn an agent's login or pause on or off (agents.control, for an agent within the actor's scope):
        audited, announced."""
        name = _name(name)
        agent_number, _ = await _agent_number(number, self._country, must_exist=False)
        await self._auth.authorize(actor, "agents.control", f"queue:{name}", number=agent_number)
        agent = await self._agent(name, number)
        async with in_transaction():
            before = getattr(agent, field)
            setattr(agent, field, value)
            await agent.save(update_fields=[field])
            detail = {"agent": agent.number, "before": {field: before}, "after": {field: value}}
            await self._auth.audit(actor, action, f"queue:{name}", detail)
        await self._bus.publish(event(name, agent.number))
        return _agent_view(agent)

    async def _queue(self, name: str) -> Queue:
        queue = await Queue.get_or_none(name=name)
        if queue is None:
            raise NotFound(f"queue {name} does not exist")
        return queue

    async def _agent(self, name: str, number: str) -> QueueAgent:
        number, _ = await _agent_number(number, self._country, must_exist=False)
        agent = await QueueAgent.get_or_none(queue__name=name, number=number)
        if agent is None:
            await self._queue(name)
            raise NotFound(f"{number} is not an agent of queue {name}")
        return agent

    async def _view(self, queue: Queue, numbers: frozenset[str] | None = None) -> QueueView:
        """The queue, with its agents (those in `numbers`, when given)."""
        agents = [
            a
            for a in await QueueAgent.filter(queue=queue).order_by("position")
            if numbers is None or a.number in numbers
        ]
        return QueueView(
            queue.name,
            queue.number,
            queue.strategy,
            queue.agent_timeout,
            queue.max_wait,
            queue.overflow,
            queue.wrapup,
            queue.announce_every,
            queue.music,
            queue.recording,
            [_agent_view(a) for a in agents],
        )


async def _agent_number(number: str, country: str, must_exist: bool = True) -> tuple[str, bool]:
    """An agent's number: (internal number, False) or (E.164, True) for a remote agent, written in
    international form or nationally (`country`): 2 to 4 digits are an internal number."""
    number = given(number, "agent", "102 or +15557654321")
    if number.startswith("+") or sum(c.isdigit() for c in number) > 4:  # longer than any internal number
        try:
            e164 = normalise_e164(number, country)
        except InvalidDestination as exc:
            raise InvalidInput(f"remote agent: {exc}") from None
        if must_exist and not await Trunk.exists(enabled=True):
            raise NotFound(f"no trunk can reach the remote agent {e164}: add one first (pbx trunk add)")
        return e164, True
    number = validate_number(number)
    if must_exist and not await Extension.exists(number=number):
        raise NotFound(f"internal number {number} does not exist")
    return number, False


def _agent_view(agent: QueueAgent) -> AgentView:
    return AgentView(
        agent.number,
        agent.remote,
        agent.timeout,
        agent.wrapup,
        agent.delay_busy,
        agent.delay_no_answer,
        agent.delay_reject,
        agent.logged_in,
        agent.paused,
    )
