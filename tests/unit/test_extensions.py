"""Internal numbers through the service: validation, permissions, audit, events, provisioning."""

import pytest

from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.events import EventBus
from core.models import AuditEntry, EventRecord, Extension
from core.services.auth import Actor, AuthService
from core.services.extensions import ExtensionService
from core.services.provisioning import Provisioner, endpoint_fields, sip_digest

ADMIN = Actor("alice", "admin", "cli")
VIEWER = Actor("victor", "viewer", "api")


class RecordingAri:
    """Records the PJSIP objects pushed (an adapter-level stand-in: no call behaviour is claimed)."""

    def __init__(self):
        self.objects = {}
        self.subscriptions = set()

    async def push_config(self, object_type, object_id, fields):
        self.objects[(object_type, object_id)] = fields

    async def subscribe(self, event_source):
        self.subscriptions.add(event_source)

    async def delete_config(self, object_type, object_id):
        self.objects.pop((object_type, object_id), None)


@pytest.fixture
def service():
    return ExtensionService(AuthService(), EventBus())


@pytest.mark.parametrize("number", ["1", "12345", "10a", "", " ", "+101", "1 1"])
async def test_invalid_numbers_are_refused(db, service, number):
    with pytest.raises(InvalidInput, match="2 to 4 digits"):
        await service.add(ADMIN, number)
    assert await Extension.all().count() == 0


@pytest.mark.parametrize("password", ["short", "has space in it", "semi;colon1", "x" * 65])
async def test_invalid_passwords_are_refused(db, service, password):
    with pytest.raises(InvalidInput, match="SIP password"):
        await service.add(ADMIN, "101", password=password)


async def test_add_generates_password_and_records_everything(db, service):
    view = await service.add(ADMIN, "101", "Reception")
    assert view.sip_password and len(view.sip_password) == 16
    stored = await Extension.get(number="101")
    assert stored.sip_digest == sip_digest("101", view.sip_password)  # only the digest is kept
    assert view.sip_password not in str(await Extension.filter(number="101").values())
    audit = await AuditEntry.get(action="extension.add")
    assert (audit.actor, audit.source, audit.target) == ("alice", "cli", "101")
    assert view.sip_password not in str(audit.detail)  # secrets never reach the audit log
    assert await EventRecord.filter(type="ExtensionAdded").count() == 1
    listed = await service.list(ADMIN)
    assert [(e.number, e.name, e.sip_password) for e in listed] == [("101", "Reception", None)]


async def test_duplicate_is_a_conflict_and_nothing_half_written(db, service):
    await service.add(ADMIN, "101")
    with pytest.raises(Conflict, match="already exists"):
        await service.add(ADMIN, "101", "Other")
    assert await Extension.all().count() == 1
    assert await AuditEntry.filter(action="extension.add").count() == 1


async def test_viewer_may_not_add_and_refusal_is_audited(db, service):
    with pytest.raises(PermissionDenied):
        await service.add(VIEWER, "101")
    denied = await AuditEntry.get(action="denied:extensions.write")
    assert (denied.actor, denied.ok) == ("victor", False)


async def test_remove_unknown_number(db, service):
    with pytest.raises(NotFound):
        await service.remove(ADMIN, "555")


async def test_provisioning_follows_changes(db):
    prov = Provisioner("127.0.0.1")
    ari = RecordingAri()
    prov.client = ari
    service = ExtensionService(AuthService(), EventBus(), prov)
    view = await service.add(ADMIN, "101", "Reception")
    auth = ari.objects[("auth", "101")]
    assert (auth["auth_type"], auth["md5_cred"]) == ("md5", sip_digest("101", view.sip_password))
    assert "password" not in auth
    assert ari.objects[("endpoint", "101")]["callerid"] == '"Reception" <101>'
    await service.update(ADMIN, "101", enabled=False)
    assert ("endpoint", "101") not in ari.objects  # a disabled number cannot register
    await service.update(ADMIN, "101", enabled=True)
    assert ("endpoint", "101") in ari.objects
    await service.remove(ADMIN, "101")
    assert ari.objects == {}


def test_endpoint_fields_keep_lab_media_on_loopback():
    ext = Extension(number="101", name="", sip_digest=sip_digest("101", "secretpw1"), enabled=True)
    assert endpoint_fields(ext, "127.0.0.1")["endpoint"]["media_address"] == "127.0.0.1"
    assert "media_address" not in endpoint_fields(ext, "0.0.0.0")["endpoint"]


async def test_outside_call_settings(db, service):
    await service.add(ADMIN, "101")
    view = await service.update(ADMIN, "101", outbound="International", external_caller_id="+1 555 000 1099")
    assert (view.outbound, view.external_caller_id) == ("international", "+15550001099")
    with pytest.raises(InvalidInput, match="must be one of internal, local, national, international"):
        await service.update(ADMIN, "101", outbound="galactic")
    with pytest.raises(InvalidInput, match="caller ID '555' must be"):
        await service.update(ADMIN, "101", external_caller_id="555")
    cleared = await service.update(ADMIN, "101", external_caller_id="")
    assert cleared.external_caller_id is None
    event = await EventRecord.filter(type="ExtensionUpdated").order_by("-id").first()
    assert event.payload["outbound"] == "international"


def test_caller_names_are_cut_between_characters_within_what_asterisk_keeps():
    from core.services.provisioning import CALLER_NAME_MAX_BYTES, caller_name

    for name in ("客" * 30, "Ж" * 45, "a" * 100):
        kept = caller_name(name)
        assert len(kept.encode()) <= CALLER_NAME_MAX_BYTES
        assert name.startswith(kept) and len(kept.encode()) > CALLER_NAME_MAX_BYTES - 4
