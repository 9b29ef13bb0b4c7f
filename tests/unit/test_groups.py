"""Groups through the service: validation, membership rules, audit, and what routing is given."""

import pytest

from core.errors import Conflict, InvalidInput, NotFound
from core.events import EventBus
from core.models import AuditEntry
from core.routing.decisions import RingGroup, RingStep
from core.routing.destinations import parse_destination
from core.routing.groups import RingStrategy
from core.services.auth import Actor, AuthService
from core.services.extensions import ExtensionService
from core.services.groups import GroupService
from core.services.internal import config

ADMIN = Actor("alice", "admin", "cli")


@pytest.fixture
async def groups(db):
    for number in ("101", "102", "103", "104", "105"):
        await ExtensionService(AuthService(), EventBus()).add(ADMIN, number)
    return GroupService(AuthService(), EventBus())


async def test_create_fill_and_read_a_group(groups):
    await groups.save(
        ADMIN, "Sales", strategy="round-robin", member_timeout=8, timeout=40, fallback="ext:105"
    )
    view = await groups.set_members(ADMIN, "sales", ["103", "102"])
    assert (view.name, view.strategy, view.members, view.fallback) == (
        "sales",
        "round_robin",
        ["103", "102"],
        "ext:105",
    )
    info = await config.group_info("sales")
    assert (info.strategy, info.member_timeout, info.timeout) == (RingStrategy.ROUND_ROBIN, 8, 40)
    assert [m.number for m in info.members] == ["103", "102"] and info.fallback == parse_destination(
        "ext:105"
    )
    await config.group_started(RingGroup("sales", (RingStep(("102",), 8),), 40, None, 1))
    info = await config.group_info("sales")
    assert info.last_index == 1
    assert [m.last_rung is not None for m in info.members] == [False, True]
    assert [a.action for a in await AuditEntry.all().order_by("id")][-2:] == ["group.add", "group.members"]


async def test_a_number_is_in_one_group_at_most(groups):
    await groups.save(ADMIN, "sales")
    await groups.save(ADMIN, "support")
    await groups.set_members(ADMIN, "sales", ["101", "102"])
    with pytest.raises(Conflict, match="102 is already in group sales"):
        await groups.set_members(ADMIN, "support", ["102", "103"])
    assert (await config.group_info("support")).members == ()
    await groups.set_members(ADMIN, "sales", ["101"])  # 102 leaves sales...
    await groups.set_members(ADMIN, "support", ["102", "103"])  # ...and may join support


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"name": "two words"}, InvalidInput, "group name"),
        ({"strategy": "loudest"}, InvalidInput, "unknown ring strategy"),
        ({"member_timeout": 0}, InvalidInput, "member timeout must be between 1 and 600"),
        ({"timeout": 601}, InvalidInput, "group timeout must be between 1 and 600"),
        ({"fallback": "ext:555"}, NotFound, "internal number 555 does not exist"),
        ({"fallback": "group:sales"}, InvalidInput, "cannot fall back to itself"),
        ({"fallback": "queue:vip"}, NotFound, "queue vip does not exist"),
    ],
)
async def test_bad_group_settings(groups, kwargs, error, message):
    args = {"name": "sales"} | kwargs
    if kwargs.get("fallback") == "group:sales":
        await groups.save(ADMIN, "sales")
    with pytest.raises(error, match=message):
        await groups.save(ADMIN, args.pop("name"), **args)


async def test_bad_members(groups):
    await groups.save(ADMIN, "sales")
    with pytest.raises(NotFound, match="internal number 555"):
        await groups.set_members(ADMIN, "sales", ["101", "555"])
    with pytest.raises(InvalidInput, match="only once"):
        await groups.set_members(ADMIN, "sales", ["101", "101"])
    with pytest.raises(NotFound, match="group nope does not exist"):
        await groups.set_members(ADMIN, "nope", ["101"])
