"""Deleting what calls are still sent to is refused, naming where it is used; nothing is deleted."""

import pytest

from core.errors import Conflict
from core.events import EventBus
from core.models import Extension, Group, Ivr, Queue
from core.services import Services
from core.services.auth import Actor

ADMIN = Actor("alice", "admin", "cli")


@pytest.fixture
async def svc(db, tmp_path):
    from core.config import Settings

    services = Services.build(Settings(data_dir=tmp_path), EventBus())
    for number in ("101", "102", "103"):
        await services.extensions.add(ADMIN, number)
    return services


async def test_an_internal_number_in_use(svc):
    await svc.forwarding.set(ADMIN, "101", "busy", "voicemail:102")
    await svc.forwarding.set(ADMIN, "102", "busy", "voicemail:102")  # its own: goes with it
    await svc.trunks.set_route(ADMIN, "+15550001000", "ext:102")
    await svc.ivrs.save(ADMIN, "main", prompt="sound:x")
    await svc.ivrs.set_option(ADMIN, "main", "2", "ext:102")
    await svc.queues.save(ADMIN, "support")
    await svc.queues.add_agent(ADMIN, "support", "102")
    with pytest.raises(Conflict) as refused:
        await svc.extensions.remove(ADMIN, "102")
    assert str(refused.value) == (
        "internal number 102 is still used by the busy forwarding of 101, the route of +15550001000, "
        "key 2 of IVR main, queue support (as an agent): change those first"
    )
    assert await Extension.exists(number="102")
    await svc.extensions.remove(ADMIN, "103")  # used nowhere


async def test_groups_menus_and_queues_in_use(svc):
    await svc.groups.save(ADMIN, "sales")
    await svc.queues.save(ADMIN, "support", overflow="group:sales")
    await svc.ivrs.save(ADMIN, "sub", prompt="sound:x")
    await svc.ivrs.save(ADMIN, "main", prompt="sound:x", fallback="queue:support")
    await svc.ivrs.set_option(ADMIN, "main", "9", "ivr:sub")
    await svc.ivrs.set_option(ADMIN, "sub", "0", "ivr:sub")  # a menu leading to itself: goes with it
    await svc.schedules.save(ADMIN, "office", timezone="UTC", open_to="ivr:main", closed_to="group:sales")
    with pytest.raises(
        Conflict, match="group sales is still used by schedule office, the overflow of queue support"
    ):
        await svc.groups.remove(ADMIN, "sales")
    with pytest.raises(Conflict, match="queue support is still used by the fallback of IVR main"):
        await svc.queues.remove(ADMIN, "support")
    with pytest.raises(Conflict, match="IVR sub is still used by key 9 of IVR main"):
        await svc.ivrs.remove(ADMIN, "sub")
    with pytest.raises(Conflict, match="IVR main is still used by schedule office"):
        await svc.ivrs.remove(ADMIN, "main")
    assert (await Group.all().count(), await Queue.all().count(), await Ivr.all().count()) == (1, 1, 2)
    await svc.ivrs.set_option(ADMIN, "main", "9", None)
    await svc.ivrs.remove(ADMIN, "sub")


async def test_the_last_trunk_while_calls_still_go_outside(svc):
    await svc.trunks.add(ADMIN, "carrier", "127.0.0.2", 5060, "+15550001000")
    await svc.forwarding.set(ADMIN, "101", "no_answer", "external:+15557654321")
    await svc.queues.save(ADMIN, "support")
    await svc.queues.add_agent(ADMIN, "support", "+15557650000")
    with pytest.raises(Conflict) as refused:
        await svc.trunks.remove(ADMIN, "carrier")
    assert str(refused.value) == (
        "trunk carrier (the last one) is still used by the no_answer forwarding of 101, "
        "queue support (remote agent +15557650000): change those first"
    )
    await svc.trunks.add(ADMIN, "backup", "127.0.0.3", 5060, "+15550001000")
    await svc.trunks.remove(ADMIN, "carrier")  # another way out remains
