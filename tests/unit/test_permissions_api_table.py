"""The permission table, through a real HTTP client and websocket against the app served by uvicorn: for each
role × scope, each operation on each resource is allowed or refused as the permission model says.

What an operation needs is written out per operation below (its right, and how far the actor's scope must
reach); whether a role holds a right is read from core/services/permissions.py ROLES, never copied. A refusal
is 403 naming the missing right (or the scope), audited once, and changes nothing; a list shows only what the
actor's scope covers; the event stream likewise. The world: 101 and 102 in group sales, 201 in support.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import pytest_asyncio
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from core.api import create_app
from core.config import Settings
from core.events import CallStarted, EventBus
from core.models import (
    AuditEntry,
    BlacklistEntry,
    Extension,
    ForwardingRule,
    Group,
    GroupMember,
    Queue,
    QueueAgent,
    Trunk,
    User,
)
from core.services import Services
from core.services.auth import SYSTEM
from core.services.permissions import ROLES
from tests.unit.api_server import StandInDaemon, served

SCOPES = ("org", "group:sales", "ext:101")
#: the internal numbers each scope covers, in this world
COVERS = {"org": {"101", "102", "201"}, "group:sales": {"101", "102"}, "ext:101": {"101"}}
#: the other users of this world, by their scopes
OTHERS = {"admin": "org", "gus": "group:sales", "olga": "ext:101", "sven": "ext:201"}
LIVE = [
    {"call_id": "c1", "caller": "101", "callee": "102", "state": "up"},
    {"call_id": "c2", "caller": "201", "callee": "+15557654321", "state": "up"},
]
ANY, ORG = "any", "org"  # how far the scope must reach: nowhere (the right is enough), the organisation


def within(user_scope: str, scope: str) -> bool:
    """Whether a user at `user_scope` lies within `scope`: the same scope, or one of its numbers."""
    return scope == "org" or user_scope == scope or user_scope.removeprefix("ext:") in COVERS[scope]


State = Callable[[], Awaitable[Any]]
Items = Callable[[Any], set[str]]


@dataclass(frozen=True)
class Op:
    """One operation: the right it needs, how far the scope must reach (ANY, ORG or an internal number),
    what it changes (`state`), or for a list what it shows (`items`, expected per scope by `expect`)."""

    name: str
    method: str
    path: str
    right: str
    reach: str
    body: dict[str, Any] | None = None
    state: State | None = None
    items: Items | None = None
    expect: Callable[[str], set[str]] | None = None
    gives: frozenset[str] = field(default_factory=frozenset)  # rights the actor must hold to give them


async def ext_name(number: str) -> str:
    return (await Extension.get(number=number)).name


async def busy_rule(number: str) -> list[str]:
    return [r.destination for r in await ForwardingRule.filter(extension__number=number, condition="busy")]


async def paused(number: str) -> bool:
    return (await QueueAgent.get(queue__name="support", number=number)).paused


async def names(model: Any, field_name: str = "name") -> list[str]:
    return sorted(await model.all().values_list(field_name, flat=True))


async def max_wait() -> int:
    return (await Queue.get(name="support")).max_wait


def numbers(rows: Any) -> set[str]:
    return {r["number"] for r in rows}


def agents(rows: Any) -> set[str]:
    return {a["number"] for q in rows for a in q["agents"]}


def agents_seen(scope: str) -> set[str]:
    return COVERS[scope] & {"101", "201"}  # the queue's agents


def user_names(rows: Any) -> set[str]:
    return {u["name"] for u in rows}


def users_seen(scope: str) -> set[str]:
    return {"me"} | {name for name, at in OTHERS.items() if within(at, scope)}


def call_ids(rows: Any) -> set[str]:
    return {c["call_id"] for c in rows}


def calls_seen(scope: str) -> set[str]:
    return {c["call_id"] for c in LIVE if {c["caller"], c["callee"]} & COVERS[scope]}


TRUNK = {"name": "carrier", "host": "192.0.2.50", "caller_id": "+15550001000"}
VIEWER = ROLES["viewer"]

OPS = [
    Op("extensions list", "GET", "/extensions", "extensions.read", ANY, items=numbers, expect=COVERS.get),
    Op("extension read own", "GET", "/extensions/101", "extensions.read", "101"),
    Op("extension read other group's", "GET", "/extensions/201", "extensions.read", "201"),
    Op("extension write own", "PATCH", "/extensions/101", "extensions.write", "101", {"name": "New"},
       lambda: ext_name("101")),
    Op("extension write other group's", "PATCH", "/extensions/201", "extensions.write", "201",
       {"name": "New"}, lambda: ext_name("201")),
    Op("forwarding list", "GET", "/forwarding", "forwarding.read", ANY, items=numbers, expect=COVERS.get),
    Op("forwarding own", "PUT", "/extensions/101/forwarding/busy", "forwarding.write", "101",
       {"destination": "ext:102"}, lambda: busy_rule("101")),
    Op("forwarding other group's", "PUT", "/extensions/201/forwarding/busy", "forwarding.write", "201",
       {"destination": "ext:101"}, lambda: busy_rule("201")),
    Op("blacklist read", "GET", "/blacklist", "blacklist.read", ANY),
    Op("blacklist add", "POST", "/blacklist", "blacklist.write", ANY, {"number": "+15550199999"},
       lambda: names(BlacklistEntry, "pattern")),
    Op("queues list", "GET", "/queues", "queues.read", ANY, items=agents, expect=agents_seen),
    Op("queue change", "PUT", "/queues/support", "queues.write", ORG, {"max_wait": 777}, max_wait),
    Op("agent pause own", "POST", "/queues/support/agents/101/pause", "agents.control", "101", None,
       lambda: paused("101")),
    Op("agent pause other group's", "POST", "/queues/support/agents/201/pause", "agents.control", "201",
       None, lambda: paused("201")),
    Op("trunks read", "GET", "/trunks", "trunks.read", ANY),
    Op("trunk add", "POST", "/trunks", "trunks.write", ORG, TRUNK, lambda: names(Trunk)),
    Op("users list", "GET", "/users", "users.read", ANY, items=user_names, expect=users_seen),
    Op("user add at 101", "POST", "/users", "users.write", "101",
       {"name": "new101", "role": "viewer", "scope": "ext:101"}, lambda: names(User), gives=VIEWER),
    Op("user add at 201", "POST", "/users", "users.write", "201",
       {"name": "new201", "role": "viewer", "scope": "ext:201"}, lambda: names(User), gives=VIEWER),
    Op("audit read", "GET", "/audit", "audit.read", ANY),
    Op("calls live", "GET", "/calls/live", "calls.read", ANY, items=call_ids, expect=calls_seen),
    Op("call record own", "POST", "/calls/c1/recording", "calls.record", "101"),
    Op("call record other group's", "POST", "/calls/c2/recording", "calls.record", "201"),
]  # fmt: skip


def allowed(role: str, scope: str, op: Op) -> bool:
    """What the permission model says: the role holds the right (and what it gives), and the scope reaches."""
    rights = ROLES[role]
    if op.right not in rights or not op.gives <= rights:
        return False
    if op.reach == ANY:
        return True
    if op.reach == ORG:
        return scope == "org"
    return op.reach in COVERS[scope]


ACTORS = [(role, scope) for role in ROLES for scope in SCOPES]


@pytest_asyncio.fixture
async def world(db, tmp_path):
    """The organisation above served for real; yields a function giving an HTTP client for a token."""
    bus = EventBus()
    services = Services.build(Settings(data_dir=tmp_path), bus)
    await services.auth.ensure_user("admin", "admin", "a" * 32)
    for group, members in (("sales", ("101", "102")), ("support", ("201",))):
        row = await Group.create(name=group, strategy="ring_all")
        for position, number in enumerate(members):
            ext = await Extension.create(number=number, name=f"Phone {number}", sip_digest="x")
            await GroupMember.create(group=row, extension=ext, position=position)
            await ForwardingRule.create(extension=ext, condition="busy", destination="hangup")
    await services.queues.save(SYSTEM, "support", number="600")
    for agent in ("101", "201"):
        await services.queues.add_agent(SYSTEM, "support", agent)
    for name, scope in OTHERS.items():
        if name != "admin":
            await services.users.add(SYSTEM, name, "staff", scope)
    daemon = StandInDaemon(LIVE)
    async with served(create_app(services, bus, daemon)) as address:
        yield services, bus, daemon, address


async def me(services: Services, role: str, scope: str) -> str:
    """The actor of the test: user `me` with `role` at `scope`; its token."""
    await services.users.add(SYSTEM, "me", role, scope)
    return (await services.tokens.create(SYSTEM, "me")).token


def http(address: str, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=f"http://{address}/api", headers={"Authorization": f"Bearer {token}"}, trust_env=False
    )


@pytest.mark.parametrize(("role", "scope"), ACTORS, ids=[f"{r}@{s}" for r, s in ACTORS])
async def test_each_operation_is_allowed_or_refused_as_the_roles_say(world, role, scope):
    services, _, daemon, address = world
    token = await me(services, role, scope)
    wrong: list[str] = []
    async with http(address, token) as client:
        for op in OPS:
            before = await op.state() if op.state else None
            recording = list(daemon.recording)
            refusals = await AuditEntry.filter(actor="me", ok=False).count()
            answer = await client.request(op.method, op.path, json=op.body)
            expected = allowed(role, scope, op)
            if expected:
                if not 200 <= answer.status_code < 300:
                    wrong.append(f"{op.name}: expected allowed, got {answer.status_code} {answer.text}")
                elif op.items and op.expect and op.items(answer.json()) != op.expect(scope):
                    wrong.append(
                        f"{op.name}: listed {sorted(op.items(answer.json()))}, not {sorted(op.expect(scope))}"
                    )
                elif op.state and await op.state() == before:
                    wrong.append(f"{op.name}: allowed, yet nothing changed")
                continue
            error = answer.json().get("error", "") if answer.status_code == 403 else ""
            if answer.status_code != 403:
                wrong.append(f"{op.name}: expected 403, got {answer.status_code} {answer.text}")
            elif op.right not in ROLES[role] and f"lacks {op.right}" not in error:
                wrong.append(f"{op.name}: the refusal does not name {op.right}: {error}")
            elif op.right in ROLES[role] and not ({*op.gives} - ROLES[role]) and "only" not in error:
                wrong.append(f"{op.name}: the refusal does not name the scope: {error}")
            if op.state and await op.state() != before:
                wrong.append(f"{op.name}: refused, yet it changed {before!r} to {await op.state()!r}")
            if daemon.recording != recording:
                wrong.append(f"{op.name}: refused, yet a recording started")
            if await AuditEntry.filter(actor="me", ok=False).count() != refusals + 1:
                wrong.append(f"{op.name}: the refusal is not audited exactly once")
    assert not wrong, f"{role} at {scope}:\n" + "\n".join(wrong)


@pytest.mark.parametrize(("role", "scope"), ACTORS, ids=[f"{r}@{s}" for r, s in ACTORS])
async def test_the_event_stream_shows_only_what_the_scope_covers(world, role, scope):
    services, bus, _, address = world
    token = await me(services, role, scope)
    stream = connect(f"ws://{address}/api/events", additional_headers={"Authorization": f"Bearer {token}"})
    if "events.read" not in ROLES[role]:
        with pytest.raises((InvalidStatus, ConnectionClosed)):
            async with stream as ws:
                await ws.recv()
        return
    assert "calls.read" in ROLES[role], "a role that follows events but not calls needs another probe here"
    async with stream as ws:
        snapshot = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert {c["call_id"] for c in snapshot["live_calls"]} == calls_seen(scope)
        await bus.publish(CallStarted(call_id="c3", caller="201", callee="202"))  # support's
        await bus.publish(CallStarted(call_id="c4", caller="+15557654321", callee="101"))  # sales', 101's
        seen = []
        while "c4" not in seen:
            seen.append(json.loads(await asyncio.wait_for(ws.recv(), 5))["call_id"])
    assert seen == (["c3", "c4"] if "201" in COVERS[scope] else ["c4"])


def test_the_table_is_not_vacuous():
    """Hand-written cells the derivation must agree with; every change refused to someone; another group's
    number out of reach of every scoped user."""
    by_name = {op.name: op for op in OPS}
    cells = [
        ("staff", "ext:101", "forwarding own", True),
        ("staff", "ext:101", "forwarding other group's", False),
        ("staff", "org", "blacklist add", False),
        ("operator", "group:sales", "blacklist add", True),
        ("viewer", "org", "forwarding list", False),
        ("supervisor", "org", "queue change", True),
        ("supervisor", "group:sales", "queue change", False),
        ("supervisor", "ext:101", "audit read", True),
        ("operator", "org", "audit read", False),
        ("admin", "group:sales", "extension write other group's", False),
        ("admin", "group:sales", "user add at 101", True),
        ("admin", "ext:101", "user add at 201", False),
        ("operator", "group:sales", "call record other group's", False),
    ]
    assert [allowed(r, s, by_name[n]) for r, s, n, _ in cells] == [want for *_, want in cells]
    for op in OPS:
        assert allowed("admin", "org", op), op.name
        if op.method != "GET":  # every change is refused to someone
            assert not all(allowed(role, scope, op) for role, scope in ACTORS), op.name
        if op.reach == "201":  # another group's number: refused below the organisation, whatever the role
            assert not any(allowed(role, s, op) for role in ROLES for s in ("group:sales", "ext:101")), (
                op.name
            )
