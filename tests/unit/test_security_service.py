"""The security service over a real database and a recording ARI stand-in: bans are stored, pushed as
PJSIP ACLs, published, audited, pushed again after a reconnect or a daemon restart, and lifted."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from core.ari.client import AriRefused
from core.config import SecuritySettings
from core.errors import InvalidInput, NotFound, PermissionDenied
from core.events import EventBus, SecurityAlert
from core.models import AuditEntry, EventRecord, SecurityBan
from core.security import AuthFailure
from core.services.auth import Actor, AuthService
from core.services.security import SecurityService, acl_fields, acl_id

ADMIN = Actor("alice", "admin", "cli")
VIEWER = Actor("vic", "viewer", "api")


class RecordingAri:
    """Records the PJSIP objects pushed (adapter-level stand-in); answers ACL pushes as Asterisk does."""

    def __init__(self):
        self.objects = {}

    async def push_config(self, object_type, object_id, fields):
        self.objects[(object_type, object_id)] = fields
        if object_type == "acl":  # stored, but Asterisk cannot echo an ACL back
            raise AriRefused(500, f'PUT .../acl/{object_id}: HTTP 500 {{"error":"Allocation failed"}}')

    async def delete_config(self, object_type, object_id):
        self.objects.pop((object_type, object_id), None)

    def acls(self):
        return {oid: f["deny"] for (kind, oid), f in self.objects.items() if kind == "acl"}


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def service(**settings) -> tuple[SecurityService, EventBus, Clock]:
    bus, clock = EventBus(), Clock()
    cfg = SecuritySettings(**({"ban_after": 3, "ban_window": 60, "ban_seconds": 900} | settings))
    return SecurityService(cfg, None, AuthService(), bus, clock), bus, clock


def wrong(address="203.0.113.9", number="101"):
    return AuthFailure("ChallengeResponseFailed", address, number)


async def test_a_ban_is_stored_pushed_published_and_audited(db):
    svc, bus, _ = service()
    svc.client = ari = RecordingAri()
    seen = []
    bus.add_handler(seen.append)
    for _ in range(3):
        await svc.handle(wrong())
    assert ari.acls() == {"ban-v4-203-0-113-9": "203.0.113.9/32"}
    ban = await SecurityBan.get(address="203.0.113.9")
    assert ban.failures == 3 and ban.numbers == ["101"]
    assert ban.until > datetime.now(UTC) + timedelta(seconds=890)
    [alert] = seen
    assert isinstance(alert, SecurityAlert)
    assert (alert.kind, alert.address, alert.failures) == ("ban", "203.0.113.9", 3)
    assert (await EventRecord.get(id=alert.id)).payload["kind"] == "ban"
    audit = await AuditEntry.get(action="security.ban")
    assert (audit.actor, audit.source, audit.target) == ("system", "system", "203.0.113.9")
    assert svc.is_banned("203.0.113.9")
    await svc.handle(wrong())  # logged before Asterisk refused it: not a second ban
    assert len(seen) == 1


async def test_loopback_is_banned_unless_exempt(db):
    svc, _, _ = service()
    svc.client = ari = RecordingAri()
    for _ in range(3):
        await svc.handle(wrong("127.0.0.1"))
    assert ari.acls() == {"ban-v4-127-0-0-1": "127.0.0.1/32"}
    exempt, _, _ = service(exempt_loopback=True, exempt=["192.0.2.0/24"])
    exempt.client = ari2 = RecordingAri()
    for address in ("127.0.0.1", "::1", "192.0.2.77"):
        for _ in range(3):
            await exempt.handle(wrong(address))
    assert ari2.acls() == {} and not await SecurityBan.exists(address="::1")


async def test_bans_made_while_asterisk_is_away_are_pushed_on_connect(db):
    svc, _, _ = service()
    for _ in range(3):
        await svc.handle(wrong("2001:db8::7"))
    assert await SecurityBan.exists(address="2001:db8::7")
    ari = RecordingAri()
    await svc.push_all(ari)
    assert ari.acls() == {acl_id("2001:db8::7"): "2001:db8::7/128"}
    assert acl_id("2001:db8::7") == "ban-v6-2001_db8__7"


async def test_a_restarted_daemon_pushes_the_stored_bans_and_lifts_expired_ones(db):
    now = datetime.now(UTC)
    await SecurityBan.create(address="198.51.100.1", until=now + timedelta(minutes=5), failures=10)
    await SecurityBan.create(address="198.51.100.2", until=now - timedelta(seconds=1), failures=10)
    svc, _, _ = service()
    await svc.load()
    ari = RecordingAri()
    ari.objects[("acl", acl_id("198.51.100.2"))] = acl_fields("198.51.100.2")  # Asterisk kept running
    await svc.push_all(ari)
    assert ari.acls() == {"ban-v4-198-51-100-1": "198.51.100.1/32"}
    assert [b.address for b in await SecurityBan.all()] == ["198.51.100.1"]
    assert await AuditEntry.exists(action="security.unban", target="198.51.100.2", actor="system")


async def test_an_expired_ban_is_lifted_only_once_asterisk_confirms(db):
    svc, _, _ = service(ban_seconds=1)
    for _ in range(3):
        await svc.handle(wrong())
    await SecurityBan.filter(address="203.0.113.9").update(until=datetime.now(UTC) - timedelta(seconds=1))
    svc._bans["203.0.113.9"] = datetime.now(UTC) - timedelta(seconds=1)
    await svc.lift_expired()  # not connected: kept, so it is lifted from Asterisk later
    assert await SecurityBan.exists(address="203.0.113.9")
    svc.client = ari = RecordingAri()
    ari.objects[("acl", acl_id("203.0.113.9"))] = acl_fields("203.0.113.9")
    await svc.lift_expired()
    assert ari.acls() == {} and not await SecurityBan.exists(address="203.0.113.9")
    assert not svc.is_banned("203.0.113.9")


async def test_failures_per_number_alert(db):
    svc, bus, _ = service(ban_after=10, number_alert_after=4)
    seen = []
    bus.add_handler(seen.append)
    for i in range(4):
        await svc.handle(wrong(f"192.0.2.{i}", "102"))
    [alert] = seen
    assert (alert.kind, alert.number, alert.failures) == ("failures_per_number", "102", 4)
    assert alert.addresses == ["192.0.2.0", "192.0.2.1", "192.0.2.2", "192.0.2.3"]


async def test_log_lines_are_counted(db):
    svc, _, _ = service(ban_after=2)
    svc.client = ari = RecordingAri()
    msg = (
        'SecurityEvent="ChallengeResponseFailed",EventTV="t",Severity="Error",Service="PJSIP",'
        'EventVersion="1",AccountID="101",SessionID="s",LocalAddress="IPV4/UDP/127.0.0.1/5060",'
        'RemoteAddress="IPV4/UDP/127.0.0.5/4000",Challenge="1/ab",Response="cd",ExpectedResponse=""'
    )
    line = json.dumps({"logmsg": {"level": "SECURITY", "message": msg}})
    for text in (line, "not json", line):
        await svc.handle_line(text)
    assert ari.acls() == {"ban-v4-127-0-0-5": "127.0.0.5/32"}


async def test_unban_by_hand(db):
    svc, _, _ = service()
    svc.client = ari = RecordingAri()
    for _ in range(3):
        await svc.handle(wrong())
    assert [b.address for b in await svc.bans(VIEWER)] == ["203.0.113.9"]
    with pytest.raises(PermissionDenied):
        await svc.unban(VIEWER, "203.0.113.9")
    with pytest.raises(InvalidInput, match="not an IP address"):
        await svc.unban(ADMIN, "example.com")
    with pytest.raises(NotFound, match=r"198\.51\.100\.3 is not banned"):
        await svc.unban(ADMIN, "198.51.100.3")
    await svc.unban(ADMIN, " 203.0.113.9 ")
    assert ari.acls() == {} and await svc.bans(ADMIN) == []
    assert await AuditEntry.exists(action="security.unban", actor="alice", target="203.0.113.9")
    for _ in range(2):  # counted afresh
        await svc.handle(wrong())
    assert not svc.is_banned("203.0.113.9")


async def test_a_refused_ban_does_not_stop_the_connection(db):
    class NoAclWizard(RecordingAri):
        async def push_config(self, object_type, object_id, fields):
            raise AriRefused(403, "PUT ...: HTTP 403 Cannot create sorcery objects of type 'acl'")

    svc, _, _ = service()
    for _ in range(3):
        await svc.handle(wrong())
    await svc.push_all(NoAclWizard())  # logged, not raised
