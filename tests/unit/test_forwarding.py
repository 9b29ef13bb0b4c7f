"""Forwarding and do-not-disturb through the service: validation, loops, audit, events."""

import pytest

from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.events import EventBus
from core.models import AuditEntry, EventRecord, ForwardingRule, Trunk
from core.services.auth import Actor, AuthService
from core.services.extensions import ExtensionService
from core.services.forwarding import ForwardingService

ADMIN = Actor("alice", "admin", "cli")
OPERATOR = Actor("oscar", "operator", "api")
VIEWER = Actor("wally", "viewer", "api")


@pytest.fixture
async def forwarding(db):
    auth, bus = AuthService(), EventBus()
    for number in ("101", "102", "103"):
        await ExtensionService(auth, bus).add(ADMIN, number)
    return ForwardingService(auth, bus)


async def test_set_replace_list_and_clear(forwarding):
    await forwarding.set(ADMIN, "101", "busy", "ext:102")
    await forwarding.set(ADMIN, "101", "no-answer", "ext:103", ring_seconds=12)
    await forwarding.set(ADMIN, "101", "busy", "EXT:103")  # replaces the busy rule
    rules = [(v.condition, v.destination, v.ring_seconds) for v in await forwarding.list(ADMIN, "101")]
    assert rules == [("busy", "ext:103", None), ("no_answer", "ext:103", 12)]
    assert await forwarding.clear(ADMIN, "101", "busy") == 1
    assert [v.condition for v in await forwarding.list(ADMIN)] == ["no_answer"]
    changes = await EventRecord.filter(type="ForwardingChanged").order_by("id")
    assert changes[-1].payload["rules"] == {"no_answer": {"destination": "ext:103", "ring_seconds": 12}}
    assert [a.action for a in await AuditEntry.filter(target="101").order_by("id")][-4:] == [
        "forwarding.set",
        "forwarding.set",
        "forwarding.set",
        "forwarding.clear",
    ]


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        (("101", "sometimes", "ext:102"), {}, InvalidInput, "unknown forwarding condition"),
        (("101", "busy", "ext:1"), {}, InvalidInput, "2 to 4 digits"),
        (("101", "busy", "ext:101"), {}, InvalidInput, "cannot forward to itself"),
        (("101", "busy", "ext:555"), {}, NotFound, "internal number 555 does not exist"),
        (("555", "busy", "ext:101"), {}, NotFound, "internal number 555 does not exist"),
        (("101", "busy", "queue:support"), {}, NotFound, "queue support does not exist"),
        (("101", "busy", "ext:102"), {"ring_seconds": 10}, InvalidInput, "only to no_answer"),
        (("101", "no_answer", "ext:102"), {"ring_seconds": 0}, InvalidInput, "between 1 and 300"),
    ],
)
async def test_bad_rules_are_refused_and_nothing_is_written(forwarding, args, kwargs, error, message):
    with pytest.raises(error, match=message):
        await forwarding.set(ADMIN, *args, **kwargs)
    assert await ForwardingRule.all().count() == 0


async def test_unconditional_loops_are_refused(forwarding):
    await forwarding.set(ADMIN, "101", "always", "ext:102")
    await forwarding.set(ADMIN, "102", "always", "ext:103")
    with pytest.raises(Conflict, match="forwarding loop: 103 → 101 → 102 → 103"):
        await forwarding.set(ADMIN, "103", "always", "ext:101")
    # a conditional rule may point back: the call router breaks such loops at run time
    await forwarding.set(ADMIN, "103", "busy", "ext:101")


async def test_dnd_is_audited_and_published(forwarding):
    await forwarding.set_dnd(ADMIN, "102", True)
    event = await EventRecord.filter(type="ExtensionUpdated").order_by("-id").first()
    assert (event.payload["number"], event.payload["dnd"]) == ("102", True)
    assert await AuditEntry.filter(action="dnd.on", target="102").count() == 1


async def test_viewers_may_not_look_or_change_and_operators_may_change(forwarding):
    # issue 9: forwarding has rights of its own (forwarding.read, forwarding.write); the operator's role
    # (the switchboard) holds both, a viewer neither
    assert await forwarding.list(OPERATOR) == []
    with pytest.raises(PermissionDenied):
        await forwarding.list(VIEWER)
    with pytest.raises(PermissionDenied):
        await forwarding.set(VIEWER, "101", "busy", "ext:102")
    with pytest.raises(PermissionDenied):
        await forwarding.set_dnd(VIEWER, "101", True)
    await forwarding.set(OPERATOR, "101", "busy", "ext:102")
    await forwarding.set_dnd(OPERATOR, "101", True)
    assert [v.destination for v in await forwarding.list(OPERATOR, "101")] == ["ext:102"]


async def test_forwarding_outside_needs_a_trunk(forwarding):
    with pytest.raises(NotFound, match="no trunk can reach"):
        await forwarding.set(ADMIN, "101", "no_answer", "external:+1 555 765 4321")
    assert await ForwardingRule.all().count() == 0
    await Trunk.create(name="carrier", host="127.0.0.2", port=5060, caller_id="+15550001000")
    await forwarding.set(ADMIN, "101", "no_answer", "external:+1 555 765 4321")
    assert [v.destination for v in await forwarding.list(ADMIN, "101")] == ["external:+15557654321"]
