"""Trunks and inbound routes through the service: validation, audit, provisioning."""

import asyncio

import pytest

from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.events import EventBus
from core.models import AuditEntry, InboundRoute, Trunk
from core.services.auth import Actor, AuthService
from core.services.extensions import ExtensionService
from core.services.provisioning import Provisioner
from core.services.trunks import TrunkService

ADMIN = Actor("alice", "admin", "cli")


class RecordingAri:
    """Records the PJSIP objects pushed (adapter-level stand-in; no call behaviour is claimed)."""

    def __init__(self):
        self.objects = {}

    async def push_config(self, object_type, object_id, fields):
        self.objects[(object_type, object_id)] = fields

    async def delete_config(self, object_type, object_id):
        self.objects.pop((object_type, object_id), None)


@pytest.fixture
async def trunks(db):
    await ExtensionService(AuthService(), EventBus()).add(ADMIN, "101")
    return TrunkService(AuthService(), EventBus())


async def test_trunk_is_provisioned_with_address_identification(db):
    prov = Provisioner("127.0.0.1")
    prov.client = RecordingAri()
    service = TrunkService(AuthService(), EventBus(), prov)
    view = await service.add(ADMIN, "Carrier", "127.0.0.2", 5370, "+1 555 000 1000")
    assert (view.name, view.caller_id) == ("carrier", "+15550001000")
    objects = prov.client.objects
    assert objects[("identify", "trunk-carrier")] == {"endpoint": "trunk-carrier", "match": "127.0.0.2"}
    assert objects[("aor", "trunk-carrier")]["contact"] == "sip:127.0.0.2:5370"
    assert objects[("endpoint", "trunk-carrier")]["context"] == "from-trunk"
    await service.remove(ADMIN, "carrier")
    assert objects == {} and await Trunk.all().count() == 0
    assert [a.action for a in await AuditEntry.all().order_by("id")] == ["trunk.add", "trunk.remove"]


async def test_a_trunk_added_again_within_the_grace_keeps_its_new_credentials(db):
    prov = Provisioner("127.0.0.1")
    prov.client = RecordingAri()
    prov.unregister_grace = 0.05
    service = TrunkService(AuthService(), EventBus(), prov)
    await service.add(ADMIN, "carrier", "127.0.0.2", 5370, "+15550001000", "pbx01", "old-Secret-1")
    await service.remove(ADMIN, "carrier")
    await service.add(ADMIN, "carrier", "127.0.0.2", 5370, "+15550001000", "pbx01", "new-Secret-2")
    await asyncio.sleep(0.2)
    assert prov.client.objects[("auth", "trunk-carrier")]["password"] == "new-Secret-2"


@pytest.mark.parametrize(
    ("name", "host", "port", "caller_id", "message"),
    [
        ("1carrier", "127.0.0.2", 5060, "+15550001000", "trunk name must start with a letter"),
        ("carrier", "127.0.0.2;transport=tcp", 5060, "+15550001000", "IP address or a host name"),
        ("carrier", "sip carrier", 5060, "+15550001000", "IP address or a host name"),
        ("carrier", "127.0.0.2", 70000, "+15550001000", "between 1 and 65535"),
        ("carrier", "127.0.0.2", 5060, "0666", "international form"),
    ],
)
async def test_bad_trunks_are_refused(trunks, name, host, port, caller_id, message):
    with pytest.raises(InvalidInput, match=message):
        await trunks.add(ADMIN, name, host, port, caller_id)
    assert await Trunk.all().count() == 0


async def test_duplicate_trunk(trunks):
    await trunks.add(ADMIN, "carrier", "sip.carrier.example", 5060, "+15550001000")
    with pytest.raises(Conflict, match="already exists"):
        await trunks.add(ADMIN, "carrier", "127.0.0.3", 5060, "+15550001000")


async def test_routes(trunks):
    await trunks.set_route(ADMIN, "+1 (555) 000-1000", "ext:101")
    await trunks.set_route(ADMIN, "+15550001000", "busy")  # replaces
    assert [(r.did, r.destination) for r in await trunks.routes(ADMIN)] == [("+15550001000", "busy")]
    with pytest.raises(NotFound, match="internal number 555"):
        await trunks.set_route(ADMIN, "+15550002000", "ext:555")
    with pytest.raises(NotFound, match="IVR menu main does not exist"):
        await trunks.set_route(ADMIN, "+15550002000", "ivr:main")
    with pytest.raises(InvalidInput, match="public number '0666'"):
        await trunks.set_route(ADMIN, "0666", "ext:101")
    await trunks.remove_route(ADMIN, "+15550001000")
    assert await InboundRoute.all().count() == 0
    with pytest.raises(NotFound, match="no route"):
        await trunks.remove_route(ADMIN, "+15550001000")


async def test_viewers_may_not_touch_trunks(trunks):
    with pytest.raises(PermissionDenied):
        await trunks.add(Actor("v", "viewer", "api"), "carrier", "127.0.0.2", 5060, "+15550001000")
