"""Queues through the service: validation, agents (local and remote), login/pause, audit and events."""

import pytest

from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.events import EventBus
from core.models import AuditEntry, EventRecord, Queue, QueueAgent, Trunk
from core.routing.destinations import parse_destination
from core.routing.queues import AgentInfo, QueueStrategy
from core.services.auth import Actor, AuthService
from core.services.extensions import ExtensionService
from core.services.internal import config
from core.services.queues import QueueService

ADMIN = Actor("alice", "admin", "cli")
OPERATOR = Actor("oscar", "operator", "api")
VIEWER = Actor("vera", "viewer", "api")


@pytest.fixture
async def queues(db):
    for number in ("101", "102", "103"):
        await ExtensionService(AuthService(), EventBus()).add(ADMIN, number)
    return QueueService(AuthService(), EventBus())


async def event_types():
    return [e.type for e in await EventRecord.all().order_by("id") if e.type.startswith("Queue")]


async def test_a_queue_with_local_and_remote_agents(queues):
    await Trunk.create(name="carrier", host="127.0.0.2", port=5060, caller_id="+15550001000")
    await queues.save(
        ADMIN, "Support", number="600", strategy="longest-idle", max_wait=120, overflow="ext:103"
    )
    await queues.add_agent(ADMIN, "support", "101", timeout=20, wrapup=0)
    await queues.add_agent(ADMIN, "support", "+1 (555) 765-4321", delay_no_answer=5)
    info = await config.queue_info("support")
    assert (info.strategy, info.max_wait, info.overflow) == (
        QueueStrategy.LONGEST_IDLE,
        120,
        parse_destination("ext:103"),
    )
    assert info.agents == (
        AgentInfo("101", False, 20, 0),
        AgentInfo("+15557654321", True, delay_no_answer=5),
    )
    (view,) = await queues.queues(ADMIN)
    assert [a.number for a in view.agents] == ["101", "+15557654321"]
    assert await event_types() == ["QueueChanged", "QueueAgentLoggedIn", "QueueAgentLoggedIn"]


async def test_login_logout_and_pause_by_an_operator(queues):
    await queues.save(ADMIN, "support")
    await queues.add_agent(ADMIN, "support", "101")
    await queues.login(OPERATOR, "support", "101", logged_in=False)
    await queues.pause(OPERATOR, "support", "101")
    agent = await QueueAgent.get(number="101")
    assert (agent.logged_in, agent.paused) == (False, True)
    await queues.login(OPERATOR, "support", "101")
    await queues.pause(OPERATOR, "support", "101", paused=False)
    assert await event_types() == [
        "QueueChanged",
        "QueueAgentLoggedIn",
        "QueueAgentLoggedOut",
        "QueueAgentPaused",
        "QueueAgentLoggedIn",
        "QueueAgentPaused",
    ]
    audited = [a.action for a in await AuditEntry.filter(actor="oscar").order_by("id")]
    assert audited == ["queue.agent.logout", "queue.agent.pause", "queue.agent.login", "queue.agent.resume"]
    with pytest.raises(PermissionDenied):
        await queues.login(VIEWER, "support", "101")
    with pytest.raises(PermissionDenied):  # operators run agents, not queue settings
        await queues.save(OPERATOR, "support", max_wait=60)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"strategy": "fastest"}, InvalidInput, "unknown queue strategy 'fastest'"),
        ({"max_wait": 2}, InvalidInput, "max wait must be between 5 and 7200"),
        ({"agent_timeout": 0}, InvalidInput, "agent timeout must be between 1 and 300"),
        ({"overflow": "queue:support"}, InvalidInput, "cannot overflow to itself"),
        ({"overflow": "group:nope"}, NotFound, "group nope does not exist"),
        ({"number": "101"}, Conflict, "already used by a phone"),
        ({"number": "1"}, InvalidInput, "2 to 4 digits"),
        ({"music": "../etc"}, InvalidInput, "music on hold class"),
    ],
)
async def test_bad_queues_are_refused_and_nothing_is_written(queues, kwargs, error, message):
    with pytest.raises(error, match=message):
        await queues.save(ADMIN, "support", **kwargs)
    assert await Queue.all().count() == 0


async def test_bad_agents(queues):
    await queues.save(ADMIN, "support")
    await queues.add_agent(ADMIN, "support", "101")
    with pytest.raises(Conflict, match="101 is already an agent of queue support"):
        await queues.add_agent(ADMIN, "support", "101")
    with pytest.raises(NotFound, match="internal number 555 does not exist"):
        await queues.add_agent(ADMIN, "support", "555")
    with pytest.raises(NotFound, match="no trunk can reach the remote agent"):
        await queues.add_agent(ADMIN, "support", "+15557654321")
    with pytest.raises(InvalidInput, match="remote agent"):
        await queues.add_agent(ADMIN, "support", "+1555")
    with pytest.raises(InvalidInput, match="delay after reject must be between 0 and 600"):
        await queues.add_agent(ADMIN, "support", "102", delay_reject=-1)
    with pytest.raises(NotFound, match="queue nope does not exist"):
        await queues.add_agent(ADMIN, "nope", "102")
    with pytest.raises(NotFound, match="102 is not an agent of queue support"):
        await queues.login(ADMIN, "support", "102")
    assert [a.number for a in await QueueAgent.all()] == ["101"]


async def test_remove(queues):
    await queues.save(ADMIN, "support")
    await queues.add_agent(ADMIN, "support", "101")
    await queues.remove_agent(ADMIN, "support", "101")
    await queues.remove(ADMIN, "support")
    assert await Queue.all().count() == 0
    assert (await event_types())[-2:] == ["QueueAgentLoggedOut", "QueueChanged"]
    with pytest.raises(NotFound):
        await queues.remove(ADMIN, "support")
